/**
 * Who holds a campaign's lease: "PID@HOST/SPACE#ID" (HOST URI-encoded, so it holds no "/"), so another process can
 * tell whether the holder is a process that no longer exists in the same process space (then it takes over at once)
 * or say who it is and until when. SPACE names the process space a pid belongs to: the kernel's boot id and the pid
 * namespace. Two containers can share a hostname (a container on the host's network has the host's) and one SQLite
 * file, yet a pid from one means nothing in the other: without SPACE one would take the other's live campaign.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LeaseOwner {
  readonly host: string;
  readonly pid: number;
  /** Tells apart two runners of one process (tests, a service running two campaigns). */
  readonly id: string;
  /** The holder's process space (processSpace()); null in owners written before it was recorded, '' where unknown. */
  readonly space: string | null;
}

let cachedSpace: string | null = null;

/**
 * This process's process space: "BOOT_ID.PID_NAMESPACE" on Linux (/proc/sys/kernel/random/boot_id, the inode of
 * /proc/self/ns/pid), '' where they cannot be read (then only the hostname tells machines apart, as before).
 */
export function processSpace(): string {
  if (cachedSpace !== null) return cachedSpace;
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? '';
    cachedSpace = /^[0-9a-f-]+$/.test(boot) && namespace !== '' ? `${boot}.${namespace}` : '';
  } catch {
    cachedSpace = '';
  }
  return cachedSpace;
}

export function formatLeaseOwner(host: string, pid: number, id: string, space: string = processSpace()): string {
  return `${pid}@${encodeURIComponent(host)}${space === '' ? '' : `/${encodeURIComponent(space)}`}#${id}`;
}

/** This process's owner string, with a fresh random part. */
export function makeLeaseOwner(): string {
  return formatLeaseOwner(hostname(), process.pid, randomUUID().slice(0, 8));
}

/** Parses an owner string; also the "PID@HOST#ID" and "HOST:PID:ID" forms written by earlier versions. Null when it is neither. */
export function parseLeaseOwner(owner: string): LeaseOwner | null {
  const current = /^(\d+)@([^#/]+)(?:\/([^#/]*))?#(.+)$/.exec(owner);
  if (current) {
    try {
      return { host: decodeURIComponent(current[2] as string), pid: Number(current[1]), id: current[4] as string, space: current[3] === undefined ? null : decodeURIComponent(current[3]) };
    } catch {
      return null;
    }
  }
  const legacy = /^(.+):(\d+):([0-9a-f]{8})$/.exec(owner);
  if (legacy) return { host: legacy[1] as string, pid: Number(legacy[2]), id: legacy[3] as string, space: null };
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
 * True only when the holder is certainly gone: it ran on this host (same `os.hostname()`) in this process space (same
 * boot, same pid namespace) and its pid no longer exists. A holder on another host or in another container, or an
 * owner string that does not parse, is never declared dead. An owner written before the process space was recorded
 * is judged by its host alone, as it was then.
 */
export function isDeadLocalHolder(owner: string, localHost: string = hostname(), exists: (pid: number) => boolean = processExists, localSpace: string = processSpace()): boolean {
  const parsed = parseLeaseOwner(owner);
  if (!parsed || parsed.host !== localHost || !Number.isSafeInteger(parsed.pid) || parsed.pid <= 0) return false;
  if (parsed.space !== null && parsed.space !== localSpace) return false;
  return !exists(parsed.pid);
}

/** "process 4242 on host mail-1 (its lease runs until …)", for messages. */
export function describeLeaseHolder(owner: string, expiresAt: string | null): string {
  const parsed = parseLeaseOwner(owner);
  const who = parsed ? `process ${parsed.pid} on host ${parsed.host}` : JSON.stringify(owner);
  return `${who}${expiresAt ? ` (its lease runs until ${expiresAt})` : ''}`;
}
