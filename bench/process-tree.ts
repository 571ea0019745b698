/**
 * The processes of a local stack as Linux sees them (/proc): a root process and its descendants,
 * each with its resident memory. Worker threads live inside their process, so a process's RSS
 * covers them. PostgreSQL's processes (and anything they start) are left out: the memory goals
 * are about the stack around the database.
 */
import { readdir, readFile } from 'node:fs/promises';

/** The process that runs `npm start`: the Step Functions endpoint, the scheduler and the step handlers' worker threads (RunBatch among them). */
export const STACK_ROLE = 'stack (endpoint, step workers, scheduler)';

export interface ProcessMemory {
  pid: number;
  /** What the process is in the stack (the stack itself, serverless-offline, esbuild, ...). */
  role: string;
  rssMb: number;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

/** /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses. */
async function procInfo(pid: number): Promise<ProcInfo | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const ppid = Number(stat.slice(close + 2).split(' ')[1]);
  return { pid, ppid, comm };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) / 1024;
}

async function roleOf(info: ProcInfo): Promise<string> {
  const cmdline = (await readFile(`/proc/${info.pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
  if (cmdline.includes('tools/local/start.ts')) return STACK_ROLE;
  if (cmdline.includes('serverless') && cmdline.includes('offline')) return 'serverless-offline (HTTP API)';
  if (info.comm.startsWith('esbuild') || cmdline.includes('esbuild')) return 'esbuild service';
  return `${info.comm}`;
}

/** Every process under `rootPid` (itself included) but PostgreSQL's, with its RSS in MB. */
export async function stackProcesses(rootPid: number): Promise<ProcessMemory[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const infos = (await Promise.all(pids.map(procInfo))).filter((info): info is ProcInfo => info !== null);
  const children = new Map<number, ProcInfo[]>();
  for (const info of infos) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info]);
  const root = infos.find((info) => info.pid === rootPid);
  if (!root) return [];
  const found: ProcInfo[] = [];
  const visit = (info: ProcInfo) => {
    if (info.comm === 'postgres') return;
    found.push(info);
    for (const child of children.get(info.pid) ?? []) visit(child);
  };
  visit(root);
  return await Promise.all(found.map(async (info) => ({ pid: info.pid, role: await roleOf(info), rssMb: await rssMb(info.pid) })));
}
