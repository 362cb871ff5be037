/** A JSON client for /api/v1 on a running server, with the given credentials (a bearer token or a session cookie's headers). */
export type ApiCall = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; data: T }>;

/** `base` and `auth` are read at each call, so a test may set them in its beforeAll. */
export function apiClient(target: () => { base: string; auth: Record<string, string> }): ApiCall {
  return async <T>(method: string, path: string, body?: unknown) => {
    const { base, auth } = target();
    const response = await fetch(`${base}/api/v1${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? null : JSON.stringify(body) });
    return { status: response.status, data: (await response.json()) as T };
  };
}
