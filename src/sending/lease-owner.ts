/**
 * Who holds a campaign's lease: "PID@HOST#ID" (HOST URI-encoded), so another process can tell whether the holder is a
 * process on this machine that no longer exists (then it takes over at once) or say who it is and until when.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export interface LeaseOwner {
  readonly host: string;
  readonly pid: number;
  /** Tells apart two runners of one process (tests, a service running two campaigns). */
  readonly id: string;
}

export function formatLeaseOwner(host: string, pid: number, id: string): string {
  return `${pid}@${encodeURIComponent(host)}#${id}`;
}

/** This process's owner string, with a fresh random part. */
export function makeLeaseOwner(): string {
  return formatLeaseOwner(hostname(), process.pid, randomUUID().slice(0, 8));
}

/** Parses an owner string; also the "HOST:PID:ID" form written by earlier versions. Null when it is neither. */
export function parseLeaseOwner(owner: string): LeaseOwner | null {
  const current = /^(\d+)@([^#]+)#(.+)$/.exec(owner);
  if (current) {
    try {
      return { host: decodeURIComponent(current[2] as string), pid: Number(current[1]), id: current[3] as string };
    } catch {
      return null;
    }
  }
  const legacy = /^(.+):(\d+):([0-9a-f]{8})$/.exec(owner);
  if (legacy) return { host: legacy[1] as string, pid: Number(legacy[2]), id: legacy[3] as string };
  return null;
}

/** Whether a process with this pid exists on this machine: signal 0 checks without sending anything (EPERM: it exists, owned by someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * True only when the holder is certainly gone: it ran on this host (same `os.hostname()`) and its pid no longer
 * exists. A holder on another host, or an owner string that does not parse, is never declared dead.
 */
export function isDeadLocalHolder(owner: string, localHost: string = hostname(), exists: (pid: number) => boolean = processExists): boolean {
  const parsed = parseLeaseOwner(owner);
  if (!parsed || parsed.host !== localHost || !Number.isSafeInteger(parsed.pid) || parsed.pid <= 0) return false;
  return !exists(parsed.pid);
}

/** "process 4242 on host mail-1 (its lease runs until …)", for messages. */
export function describeLeaseHolder(owner: string, expiresAt: string | null): string {
  const parsed = parseLeaseOwner(owner);
  const who = parsed ? `process ${parsed.pid} on host ${parsed.host}` : JSON.stringify(owner);
  return `${who}${expiresAt ? ` (its lease runs until ${expiresAt})` : ''}`;
}
