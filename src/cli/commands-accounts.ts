/** `mailroom users …` and `mailroom tokens …`: the accounts service (src/accounts/account-service.ts) from the command line. */
import { AccountService, checkRole } from '../accounts/account-service.ts';
import { createApp, type App } from '../app.ts';
import { loadConfig } from '../config.ts';
import { cli } from './context.ts';
import { formatTable, print } from './output.ts';

async function withAccounts<T>(fn: (accounts: AccountService, app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig(cli().env, cli().cwd));
  try {
    return await fn(new AccountService(app.stores.accounts, { publicUrl: app.config.publicUrl }), app);
  } finally {
    await app.close();
  }
}

export async function usersCreateCommand(email: string, options: { role: string }): Promise<number> {
  const role = checkRole(options.role, '--role');
  return withAccounts(async (accounts) => {
    const { user, link } = await accounts.createUser(email, role);
    print(`user ${user.email} created (${user.role}); to choose a password, open this one-time link (it works once, for 24 hours):`);
    print(link);
    return 0;
  });
}

export async function usersListCommand(): Promise<number> {
  return withAccounts(async (accounts) => {
    const users = await accounts.listUsers();
    if (users.length === 0) print('no users yet: npx mailroom users create EMAIL --role owner');
    else print(formatTable(['ID', 'EMAIL', 'ROLE', 'STATE', 'CREATED'], users.map((u) => [u.id, u.email, u.role, u.disabled ? 'disabled' : u.hasPassword ? 'active' : 'no password yet', u.createdAt.slice(0, 16).replace('T', ' ')])));
    return 0;
  });
}

export async function usersDisableCommand(email: string): Promise<number> {
  return withAccounts(async (accounts) => {
    const user = await accounts.setDisabled(email, true);
    print(`user ${user.email} disabled: its sessions ended, it cannot log in`);
    return 0;
  });
}

export async function usersEnableCommand(email: string): Promise<number> {
  return withAccounts(async (accounts) => {
    const user = await accounts.setDisabled(email, false);
    print(`user ${user.email} enabled`);
    return 0;
  });
}

export async function usersResetPasswordCommand(email: string): Promise<number> {
  return withAccounts(async (accounts) => {
    const { user, link } = await accounts.resetPassword(email);
    print(`one-time link for ${user.email} to choose a new password (works once, for 24 hours):`);
    print(link);
    return 0;
  });
}

export async function tokensCreateCommand(name: string, options: { role: string }): Promise<number> {
  const role = checkRole(options.role, '--role');
  return withAccounts(async (accounts) => {
    const { token, secret } = await accounts.createToken(name, role);
    print(`token ${token.id} "${token.name}" (${token.role}) created; it is shown only this once, keep it now:`);
    print(secret);
    print(`use it as: Authorization: Bearer ${token.prefix}…`);
    return 0;
  });
}

export async function tokensListCommand(): Promise<number> {
  return withAccounts(async (accounts) => {
    const tokens = await accounts.listTokens();
    if (tokens.length === 0) print('no API tokens yet: npx mailroom tokens create NAME --role editor');
    else print(formatTable(['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'STATE'], tokens.map((t) => [t.id, t.name, t.role, `${t.prefix}…`, t.createdAt.slice(0, 16).replace('T', ' '), t.lastUsedAt?.slice(0, 16).replace('T', ' ') ?? '-', t.revokedAt ? 'revoked' : 'active'])));
    return 0;
  });
}

export async function tokensRevokeCommand(ref: string): Promise<number> {
  return withAccounts(async (accounts) => {
    const token = await accounts.revokeToken(ref);
    print(`token ${token.id} "${token.name}" revoked`);
    return 0;
  });
}
