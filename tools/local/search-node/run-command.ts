/** Runs a short-lived tool (mvn, javac, jar, java) and fails with its own output when it fails. */
import { spawn } from 'node:child_process';

// eslint-disable-next-line no-control-regex -- matching terminal escape sequences is the point
const ANSI_ESCAPE = /\u001b\[[0-9;]*m/g;

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

export interface RunOptions {
  cwd?: string;
  log?: (line: string) => void;
}

export async function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const output: string[] = [];
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer) => {
    // Some tools colour their output even when told not to; keep the text only.
    for (const line of chunk.toString('utf8').replaceAll(ANSI_ESCAPE, '').split('\n')) {
      if (line.trim() === '') continue;
      output.push(line);
      options.log?.(line);
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CommandError(error.code === 'ENOENT' ? `${command} is not installed (not found on PATH)` : `${command}: ${error.message}`)),
    );
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new CommandError(`${command} ${args.join(' ')} exited with ${String(code)}:\n${output.slice(-40).join('\n')}`);
  }
  return output.join('\n');
}
