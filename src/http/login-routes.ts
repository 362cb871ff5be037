/**
 * The browser's way in: /login (email and password) and /login/link/TOKEN (a one-time link: log in, or choose a
 * password). Opening a link uses nothing (mail scanners follow links); only its form's POST does.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountService, NewSession } from '../accounts/account-service.ts';
import { MIN_PASSWORD_LENGTH } from '../accounts/passwords.ts';
import { isMailroomError } from '../core/errors.ts';
import { checkOrigin, setSessionCookies } from './api/auth.ts';
import { ApiProblem } from './api/problem.ts';
import { html, type SafeHtml } from './html.ts';
import { sendPage, type PageSite } from './pages.ts';

const SITE: PageSite = { name: 'Mailroom', href: '/', links: [{ href: '/api/docs', label: 'API' }] };
const AFTER_LOGIN = '/admin/';

export interface LoginRouteDeps {
  readonly accounts: AccountService;
  readonly publicUrl: string;
  readonly clock: () => Date;
}

function formField(body: unknown, name: string): string {
  const value = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

function page(reply: FastifyReply, status: number, title: string, body: SafeHtml): FastifyReply {
  // Headers go on before sendPage sends: set after, they would apply only while some onSend hook delays the send.
  reply.header('cache-control', 'no-store');
  return sendPage(reply, status, title, body, { site: SITE, head: html`<meta name="robots" content="noindex">` });
}

export function registerLoginRoutes(app: FastifyInstance, deps: LoginRouteDeps): void {
  const { accounts } = deps;
  const secure = deps.publicUrl.startsWith('https:');
  const loggedIn = (reply: FastifyReply, session: NewSession) => {
    setSessionCookies(reply, session, secure, deps.clock());
    return reply.code(303).header('location', AFTER_LOGIN).header('cache-control', 'no-store').send();
  };
  const loginForm = (message: string | null) => html`<h1>Log in</h1>${message ? html`<p class="error" role="alert">${message}</p>` : ''}
<form method="post" action="/login" class="card">
<p><label>Email<br><input type="email" name="email" autocomplete="username" required></label></p>
<p><label>Password<br><input type="password" name="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p>
</form>`;

  app.get('/login', async (_request, reply) => page(reply, 200, 'Log in', loginForm(null)));

  app.post('/login', async (request: FastifyRequest, reply) => {
    try {
      checkOrigin(request, deps.publicUrl);
      return loggedIn(reply, await accounts.login(formField(request.body, 'email'), formField(request.body, 'password'), request.ip));
    } catch (error) {
      if (error instanceof ApiProblem) return page(reply, error.status, 'Log in', loginForm(error.message));
      if (!isMailroomError(error)) throw error;
      const status = error.code === 'LOCKED' ? 423 : error.code === 'RATE_LIMITED' ? 429 : 401;
      return page(reply, status, 'Log in', loginForm(error.message));
    }
  });

  app.get<{ Params: { token: string } }>('/login/link/:token', async (request, reply) => {
    const link = await accounts.inspectLink(request.params.token);
    if (!link) return page(reply, 410, 'Link expired', html`<h1>This link no longer works</h1><p>It was used already, or it expired. Ask an owner for a new one: <code>mailroom users reset-password EMAIL</code>.</p>`);
    const action = `/login/link/${encodeURIComponent(request.params.token)}`;
    return link.purpose === 'reset'
      ? page(
          reply,
          200,
          'Choose a password',
          html`<h1>Choose a password</h1><p>For ${link.email}.</p><form method="post" action="${action}" class="card">
<p><label>New password (at least ${MIN_PASSWORD_LENGTH} characters)<br><input type="password" name="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}" required></label></p>
<p><button type="submit">Save and log in</button></p></form>`,
        )
      : page(reply, 200, 'Log in', html`<h1>Log in</h1><p>As ${link.email}.</p><form method="post" action="${action}"><button type="submit">Log in</button></form>`);
  });

  app.post<{ Params: { token: string } }>('/login/link/:token', async (request, reply) => {
    try {
      checkOrigin(request, deps.publicUrl);
      const password = formField(request.body, 'password');
      return loggedIn(reply, await accounts.useLink(request.params.token, password === '' ? undefined : password));
    } catch (error) {
      if (error instanceof ApiProblem) return page(reply, error.status, 'Link', html`<h1>Not accepted</h1><p class="error">${error.message}</p>`);
      if (!isMailroomError(error)) throw error;
      return page(reply, error.code === 'TOKEN' ? 410 : 422, 'Link', html`<h1>Not accepted</h1><p class="error">${error.message}</p><p><a href="/login/link/${encodeURIComponent(request.params.token)}">Try again</a></p>`);
    }
  });
}
