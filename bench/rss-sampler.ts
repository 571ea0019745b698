/**
 * Samples the stack's memory every `intervalMs` (500 ms) for the whole measurement, each sample
 * filed under the phase current at that moment (idle, a run, after the runs), so that one series
 * gives every figure: a phase's peak, and its settled level (the median of its last samples).
 */
import { stackProcesses } from './process-tree.ts';

export interface Sample {
  /** Milliseconds since sampling began. */
  ms: number;
  phase: string;
  totalMb: number;
  /** RSS per role, MB (processes of one role summed). */
  byRole: Record<string, number>;
}

export interface PhaseMemory {
  samples: number;
  peakMb: number;
  /** The median total of the phase's first `settledSamples` samples: where it began. */
  earlyMb: number;
  /** The median total of the phase's last `settledSamples` samples: where memory settled. */
  settledMb: number;
  peakByRole: Record<string, number>;
  settledByRole: Record<string, number>;
}

const round = (mb: number) => Math.round(mb);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : 0;
}

export class RssSampler {
  readonly samples: Sample[] = [];
  private phase = 'start';
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly rootPid: number,
    intervalMs = 500,
  ) {
    this.timer = setInterval(() => {
      // A slow /proc walk must not overlap the next one.
      this.inFlight = this.inFlight.then(() => this.take());
    }, intervalMs);
  }

  enter(phase: string): void {
    this.phase = phase;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  /** The phase's figures; `settledSamples` is how many of its last samples the settled level takes. */
  summary(phase: string, settledSamples = 20): PhaseMemory {
    const of = this.samples.filter((s) => s.phase === phase);
    const roles = [...new Set(of.flatMap((s) => Object.keys(s.byRole)))];
    const last = of.slice(-settledSamples);
    return {
      samples: of.length,
      peakMb: round(Math.max(0, ...of.map((s) => s.totalMb))),
      earlyMb: round(median(of.slice(0, settledSamples).map((s) => s.totalMb))),
      settledMb: round(median(last.map((s) => s.totalMb))),
      peakByRole: Object.fromEntries(roles.map((role) => [role, round(Math.max(0, ...of.map((s) => s.byRole[role] ?? 0)))])),
      settledByRole: Object.fromEntries(roles.map((role) => [role, round(median(last.map((s) => s.byRole[role] ?? 0)))])),
    };
  }

  private async take(): Promise<void> {
    const phase = this.phase;
    const processes = await stackProcesses(this.rootPid);
    const byRole: Record<string, number> = {};
    for (const p of processes) byRole[p.role] = (byRole[p.role] ?? 0) + p.rssMb;
    const totalMb = processes.reduce((sum, p) => sum + p.rssMb, 0);
    this.samples.push({ ms: Date.now() - this.started, phase, totalMb, byRole });
  }
}
