/** Who is logged in, shared by every page. */
import { createContext, useContext } from 'react';
import type { Role, Session } from './api.ts';

export interface AppConfig {
  /** The local inbox runs (local development): link to /inbox. */
  readonly inbox: boolean;
}

export interface SessionContextValue {
  readonly session: Session;
  readonly config: AppConfig;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside the logged-in app');
  return value;
}

const RANK: Readonly<Record<Role, number>> = { viewer: 0, editor: 1, owner: 2 };

export function can(session: Session, role: Role): boolean {
  return RANK[session.role] >= RANK[role];
}
