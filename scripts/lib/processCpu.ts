/**
 * CPU time of the processes a benchmark started, read from /proc (Linux only): every descendant
 * of this process, grouped under a label of the caller's choosing (the Temporal server, the store,
 * the API, the worker…). Processes that exit between two readings drop out of the later one.
 */
import fs from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks, 100 per second on every mainstream kernel. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { pid, ppid: Number(fields[1]), cpuMs: ((utime + stime) * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined; // exited meanwhile
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/**
 * CPU milliseconds used so far by each label's processes. `labelOf` sees each descendant's command
 * line and the label given to its parent (undefined for direct children), so a child process (a
 * Jsonnet evaluator) can be counted with its parent (the worker) or apart.
 */
export function cpuByLabel(labelOf: (cmd: string, parentLabel: string | undefined) => string): Map<string, number> {
  const all = new Map<number, ProcStat>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) all.set(stat.pid, stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of all.values()) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const totals = new Map<string, number>();
  const visit = (pid: number, parentLabel: string | undefined) => {
    for (const child of children.get(pid) ?? []) {
      const label = labelOf(cmdline(child.pid), parentLabel);
      totals.set(label, (totals.get(label) ?? 0) + child.cpuMs);
      visit(child.pid, label);
    }
  };
  visit(process.pid, undefined);
  totals.set('bench (load generator, receiver)', readStat(process.pid)?.cpuMs ?? 0);
  return totals;
}

/** Pids of this process's descendants whose command line matches. */
export function descendantPids(match: RegExp): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) parents.set(stat.pid, stat.ppid);
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...parents.keys()].filter((pid) => isDescendant(pid) && match.test(cmdline(pid)));
}

/** What each label used between two readings. */
export function cpuDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  return new Map([...after].map(([label, ms]) => [label, ms - (before.get(label) ?? 0)]));
}
