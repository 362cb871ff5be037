/**
 * The subscriber's pages: hosted sign-up (form and JSON), the confirmation link, one-click unsubscribe and the
 * preferences page. GET never changes anything (link scanners follow GETs); every change is a POST, and works without
 * cookies: the signed token in the URL is the only credential.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { MailingList, MembershipStatus, Newsletter, Subscriber } from '../core/domain.ts';
import { archiveUrl, preferencesUrl, signupUrl, type LinkSettings } from '../core/links.ts';
import { verifyToken } from '../core/tokens.ts';
import type { ListPageNewsletter, PreferencesView, PublishedIssue, ResubscribeOutcome } from '../store/subscriber-store.ts';
import { listLabel } from '../subscribers/list-label.ts';
import { HONEYPOT_FIELD, NAME_MAX_LENGTH, type SignupService, type SignupTarget } from '../subscribers/signup.ts';
import { neutralSubject } from './archive-routes.ts';
import { html, type SafeHtml } from './html.ts';
import { PUBLIC_HEAD, PUBLIC_INDEXABLE_HEAD, field, formatDate, invalidLink, markPrivate, publicSite, sendPage, wantsJson, type PageSite } from './pages.ts';

/** What the subscriber pages need of the stores (app.stores has it). */
export interface SubscriberPageStores {
  readonly audience: {
    getList(id: number): Promise<MailingList | null>;
    getSubscriber(id: number): Promise<Subscriber | null>;
  };
  readonly newsletters: {
    listNewsletters(): Promise<Newsletter[]>;
  };
}

/** What the subscriber pages need of the subscriber's side: memberships, preferences, the list page (app.stores.subscribers has it). */
export interface SubscriberPageRecords {
  isArchivePublic(newsletterId: number): Promise<boolean>;
  listPageNewsletters(listId: number): Promise<ListPageNewsletter[]>;
  membershipStatus(subscriberId: number, listId: number): Promise<MembershipStatus | null>;
  preferences(subscriberId: number): Promise<PreferencesView | null>;
  publishedIssues(newsletterId: number, limit?: number): Promise<PublishedIssue[]>;
  resubscribe(subscriberId: number, listId: number, ip: string | null, at: Date): Promise<ResubscribeOutcome>;
  unsubscribe(subscriberId: number, listId: number, at: Date): Promise<{ email: string; listName: string; wasSubscribed: boolean } | null>;
  unsubscribeAll(subscriberId: number, at: Date): Promise<number>;
  updateName(subscriberId: number, fields: { name: string; firstName: string; lastName: string }, at: Date): Promise<boolean>;
}

export interface SubscriberRouteDeps {
  readonly stores: SubscriberPageStores;
  readonly subscribers: SubscriberPageRecords;
  readonly signup: SignupService;
  readonly settings: LinkSettings & { readonly recordIp: boolean };
  readonly clock: () => Date;
  /** Every accepted sign-up is answered no sooner than this after it arrived, so its timing says nothing about the address. */
  readonly signupMinResponseMs: number;
}

const LOCAL = { publicUrl: '' };

const STATUS_LABELS: Readonly<Record<MembershipStatus, string>> = {
  subscribed: 'Subscribed',
  pending: 'Waiting for confirmation',
  unsubscribed: 'Unsubscribed',
};

/** What the preferences page says after a change (Post/Redirect/Get): a fixed set, never text from the URL. */
const DONE_MESSAGES = {
  name: 'Your name is saved.',
  unsubscribed: 'You are unsubscribed from',
  'unsubscribed-all': 'You are unsubscribed from every list. Nothing more will be sent to you.',
  resubscribed: 'You are subscribed again to',
} as const;
type DoneCode = keyof typeof DONE_MESSAGES;

function isDoneCode(value: unknown): value is DoneCode {
  return typeof value === 'string' && Object.hasOwn(DONE_MESSAGES, value);
}

function cors(reply: FastifyReply): FastifyReply {
  // Embedded forms and scripts post here from other sites. No cookie is read and the answer is the same for everyone.
  return reply.header('access-control-allow-origin', '*').header('vary', 'Origin');
}

function siteForNewsletter(newsletter: Pick<Newsletter, 'name' | 'slug'> | undefined, list: Pick<MailingList, 'name'> | null, archivePublic: boolean): PageSite {
  if (!newsletter) return publicSite('Subscription');
  const links = [
    ...(archivePublic ? [{ href: archiveUrl(LOCAL, newsletter.slug), label: 'Archive' }] : []),
    ...(list ? [{ href: signupUrl(LOCAL, list.name), label: 'Subscribe' }] : []),
  ];
  return { name: newsletter.name, href: archivePublic ? archiveUrl(LOCAL, newsletter.slug) : '/', links };
}

function parseName(raw: unknown): { ok: true; name: string; firstName: string; lastName: string } | { ok: false; problem: string } {
  const name = typeof raw === 'string' ? raw.trim().replace(/\s+/g, ' ') : '';
  if (name.length > NAME_MAX_LENGTH) return { ok: false, problem: `The name is longer than ${NAME_MAX_LENGTH} characters.` };
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return { ok: false, problem: 'The name contains control characters.' };
  const words = name.split(' ').filter(Boolean);
  return { ok: true, name, firstName: words[0] ?? '', lastName: words.slice(1).join(' ') };
}

export function registerSubscriberRoutes(app: FastifyInstance, deps: SubscriberRouteDeps): void {
  const { stores, subscribers, signup, settings, clock } = deps;

  /** What subscribers know a list as: the newsletters it feeds (see listLabel), never only its internal name. */
  const labelOf = async (list: MailingList): Promise<string> => listLabel(list.name, (await stores.newsletters.listNewsletters()).filter((n) => n.listId === list.id));

  const siteForList = async (target: SignupTarget): Promise<PageSite> => siteForNewsletter(target.sender, target.list, await subscribers.isArchivePublic(target.sender.id));

  // ------------------------------------------------------------------ sign-up

  const signupPage = async (target: SignupTarget, options: { email?: string; name?: string; error?: string } = {}): Promise<SafeHtml> => {
    const recent = (
      await Promise.all(
        target.newsletters.map(async (n) => ((await subscribers.isArchivePublic(n.id)) ? (await subscribers.publishedIssues(n.id, 3)).map((issue) => ({ newsletter: n, issue })) : [])),
      )
    ).flat();
    return html`<h1>Subscribe to ${target.label}</h1>
${target.list.description ? html`<p>${target.list.description}</p>` : ''}
${options.error ? html`<p class="notice error" role="alert">${options.error}</p>` : ''}
<form class="card" method="post" action="${signupUrl(LOCAL, target.list.name)}" accept-charset="utf-8">
<div class="form-row"><label for="email">Email address</label><input id="email" type="email" name="email" required maxlength="254" autocomplete="email" value="${options.email ?? ''}"></div>
<div class="form-row"><label for="name">Name <span class="hint">(optional)</span></label><input id="name" type="text" name="name" maxlength="${NAME_MAX_LENGTH}" autocomplete="name" value="${options.name ?? ''}"></div>
<div class="hp" aria-hidden="true"><label for="${HONEYPOT_FIELD}">Leave this field empty</label><input id="${HONEYPOT_FIELD}" type="text" name="${HONEYPOT_FIELD}" tabindex="-1" autocomplete="off" value=""></div>
<button class="primary" type="submit">Subscribe</button>
</form>
<p></p>
<p class="muted">We send one email to confirm the address; nothing else arrives until you click the link in it. Every email has a one-click unsubscribe link. We do not track opens or clicks.${settings.recordIp ? ' Your IP address is kept with your consent, as a record of it.' : ''}</p>
${
  recent.length > 0
    ? html`<h2>Recent issues</h2><ul class="issues">${recent.map(
        ({ newsletter, issue }) =>
          html`<li><a href="/issues/${encodeURIComponent(newsletter.slug)}/${issue.number}">${neutralSubject(issue.subject)}</a><div class="meta">${newsletter.name} #${issue.number} · ${formatDate(issue.sentAt, newsletter.language)}</div></li>`,
      )}</ul>`
    : ''
}`;
  };

  const notFoundSignup = (reply: FastifyReply, json: boolean) => {
    if (json) return reply.code(404).send({ error: 'not-found', message: 'There is no sign-up form here.' });
    return sendPage(reply, 404, 'Not found', html`<h1>No sign-up form here</h1><p>Check the address of the page, or use the form on the publication's website.</p>`, {
      site: publicSite('Subscribe'),
      head: PUBLIC_HEAD,
    });
  };

  app.get<{ Params: { list: string } }>('/subscribe/:list', async (request, reply) => {
    const target = await signup.findTarget(request.params.list);
    if (!target) return notFoundSignup(reply, false);
    return sendPage(reply, 200, `Subscribe to ${target.label}`, await signupPage(target), { site: await siteForList(target), head: PUBLIC_INDEXABLE_HEAD });
  });

  app.options<{ Params: { list: string } }>('/subscribe/:list', async (_request, reply) =>
    cors(reply).header('access-control-allow-methods', 'POST, OPTIONS').header('access-control-allow-headers', 'content-type, accept').header('access-control-max-age', '86400').code(204).send(),
  );

  app.post<{ Params: { list: string }; Body: unknown }>('/subscribe/:list', async (request, reply) => {
    const json = wantsJson(request);
    const arrived = performance.now();
    cors(reply);
    reply.header('cache-control', 'no-store');
    // Counted first, for every request: invalid ones and unknown lists included.
    const rate = await signup.checkRate(request.ip);
    if (!rate.allowed) {
      const seconds = Math.ceil(rate.retryAfterMs / 1000);
      reply.header('retry-after', String(seconds));
      if (json) return reply.code(429).send({ error: 'rate-limited', message: `Too many sign-up requests from your network. Try again in ${seconds} seconds.`, retryAfter: seconds });
      return sendPage(reply, 429, 'Too many requests', html`<h1>Too many requests</h1><p>Too many sign-up requests came from your network. Try again in ${seconds} seconds.</p>`, {
        site: publicSite('Subscribe'),
        head: PUBLIC_HEAD,
      });
    }
    const target = await signup.findTarget(request.params.list);
    if (!target) return notFoundSignup(reply, json);
    if (!signup.available) {
      if (json) return reply.code(503).send({ error: 'unavailable', message: 'Sign-up is not available right now.' });
      return sendPage(reply, 503, 'Unavailable', html`<h1>Sign-up is not available right now</h1><p>Please try again later.</p>`, { site: await siteForList(target), head: PUBLIC_HEAD });
    }
    const body = request.body;
    const result = await signup.submit(target, {
      email: field(body, 'email'),
      name: field(body, 'name'),
      honeypot: field(body, HONEYPOT_FIELD),
      ip: request.ip,
      via: json ? 'api' : 'form',
    });
    if (result.status === 'invalid') {
      if (json) return reply.code(400).send({ error: 'invalid', field: result.field, message: result.problem });
      const email = field(body, 'email');
      const name = field(body, 'name');
      return sendPage(
        reply,
        400,
        `Subscribe to ${target.label}`,
        await signupPage(target, { error: result.problem, ...(typeof email === 'string' ? { email } : {}), ...(typeof name === 'string' ? { name } : {}) }),
        { site: await siteForList(target), head: PUBLIC_HEAD },
      );
    }
    // New, existing and suppressed addresses do slightly different database work; a floor on the answer time hides it.
    const wait = deps.signupMinResponseMs - (performance.now() - arrived);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const message = `If ${result.email} can receive ${target.label}, a message with a confirmation link is on its way. Nothing is sent until the link is clicked.`;
    if (json) return reply.code(202).send({ status: 'accepted', email: result.email, message });
    return sendPage(
      reply,
      200,
      'Check your inbox',
      html`<h1>Check your inbox</h1>
<p>If <strong>${result.email}</strong> can receive ${target.label}, a message with a confirmation link is on its way. Click it to start your subscription: nothing is sent until you do.</p>
<p class="muted">Nothing after a few minutes? Look in the spam folder. We send at most one confirmation email per address per hour.</p>`,
      { site: await siteForList(target), head: PUBLIC_HEAD },
    );
  });

  // ------------------------------------------------------------- confirmation

  /** The header of a page about a list: its oldest newsletter's name, with links to its archive (when public) and sign-up. */
  const siteOfList = (list: Pick<MailingList, 'name'>, newsletters: readonly ListPageNewsletter[]): PageSite => {
    const sender = newsletters[0];
    return siteForNewsletter(sender, list, sender?.archivePublic ?? false);
  };

  const confirmationSite = async (list: MailingList | null): Promise<PageSite> => (list ? siteOfList(list, await subscribers.listPageNewsletters(list.id)) : publicSite('Subscription'));

  const expiredPage = async (reply: FastifyReply, list: MailingList | null) =>
    sendPage(
      reply,
      410,
      'Link expired',
      html`<h1>This confirmation link has expired</h1><p>Confirmation links work for a week. ${list ? html`<a href="${signupUrl(LOCAL, list.name)}">Sign up again</a> to get a new one.` : 'Sign up again to get a new one.'}</p>`,
      { site: await confirmationSite(list), head: PUBLIC_HEAD },
    );

  app.get<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    markPrivate(reply);
    const state = await signup.inspectConfirmation(request.params.token);
    if (state.state === 'invalid') return invalidLink(reply);
    if (state.state === 'expired') return expiredPage(reply, state.list);
    const site = await confirmationSite(state.list);
    if (state.state === 'pending') {
      return sendPage(
        reply,
        200,
        'Confirm your subscription',
        html`<h1>Confirm your subscription</h1>
<p>Subscribe <strong>${state.email}</strong> to ${state.label}?</p>
<form method="post" action="/confirm/${request.params.token}"><button class="primary" type="submit">Yes, subscribe me</button></form>
<p></p><p class="muted">If you did not ask for this, close this page: nothing will be sent.</p>`,
        { site, head: PUBLIC_HEAD },
      );
    }
    if (state.state === 'already-subscribed') {
      return sendPage(reply, 200, 'Subscribed', html`<h1>You are subscribed</h1><p><strong>${state.email}</strong> receives ${state.label}. <a href="${preferencesPath(state.preferencesUrl)}">Manage your subscription</a>.</p>`, {
        site,
        head: PUBLIC_HEAD,
      });
    }
    return notPendingPage(reply, state.list, site);
  });

  const notPendingPage = (reply: FastifyReply, list: MailingList, site: PageSite) =>
    sendPage(
      reply,
      410,
      'Link no longer valid',
      html`<h1>This confirmation link is no longer valid</h1><p>The address was unsubscribed after this link was sent. To subscribe again, <a href="${signupUrl(LOCAL, list.name)}">sign up again</a>.</p>`,
      { site, head: PUBLIC_HEAD },
    );

  app.post<{ Params: { token: string } }>('/confirm/:token', async (request, reply) => {
    markPrivate(reply);
    const state = await signup.confirm(request.params.token, request.ip);
    if (state.state === 'invalid') return invalidLink(reply);
    if (state.state === 'expired') return expiredPage(reply, state.list);
    const site = await confirmationSite(state.list);
    if (state.state === 'confirmed' || state.state === 'already-subscribed' || state.state === 'pending') {
      return sendPage(
        reply,
        200,
        'Subscribed',
        html`<h1>You are subscribed</h1><p><strong>${state.email}</strong> will receive ${state.label}, starting with the next issue.</p><p>Every email has a link to unsubscribe or to <a href="${preferencesPath(state.preferencesUrl)}">manage your subscription</a>.</p>`,
        { site, head: PUBLIC_HEAD },
      );
    }
    if (state.state === 'blocked') {
      return sendPage(reply, 409, 'Cannot subscribe', html`<h1>This address cannot be subscribed here</h1><p>Mail to it bounced or was reported as spam. Write to the sender to lift the block.</p>`, {
        site,
        head: PUBLIC_HEAD,
      });
    }
    return notPendingPage(reply, state.list, site);
  });

  // ------------------------------------------------------------ unsubscribe

  const unsubscribeSubject = async (token: string) => {
    const subject = verifyToken(settings.secret, 'unsubscribe', token);
    if (!subject) return null;
    const subscriber = await stores.audience.getSubscriber(subject.subscriberId);
    const list = await stores.audience.getList(subject.listId);
    return subscriber && list ? { subscriber, list } : null;
  };

  // GET never changes anything: link scanners and previews follow GETs.
  app.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const found = await unsubscribeSubject(request.params.token);
    if (!found) return invalidLink(reply);
    markPrivate(reply);
    const status = await subscribers.membershipStatus(found.subscriber.id, found.list.id);
    const site = await confirmationSite(found.list);
    const manage = html`<p class="muted"><a href="${preferencesPath(preferencesUrl(settings, found.subscriber.id, found.list.id))}">Manage all your subscriptions</a></p>`;
    const label = await labelOf(found.list);
    if (status === 'unsubscribed') {
      return sendPage(reply, 200, 'Unsubscribed', html`<h1>You are unsubscribed</h1><p><strong>${found.subscriber.email}</strong> gets no more <strong>${label}</strong>.</p>${manage}`, {
        site,
        head: PUBLIC_HEAD,
      });
    }
    return sendPage(
      reply,
      200,
      `Unsubscribe from ${label}`,
      html`<h1>Unsubscribe from ${label}?</h1>
<p>Stop sending <strong>${label}</strong> to <strong>${found.subscriber.email}</strong>.</p>
<form method="post" action="/u/${request.params.token}"><button class="primary" type="submit">Unsubscribe</button></form>
<p></p>${manage}`,
      { site, head: PUBLIC_HEAD },
    );
  });

  // POST unsubscribes at once: the button above, and RFC 8058 one-click from mail providers (no cookies, any body).
  // Mail providers send these in bursts after a big send: one write (see SubscriberStore.unsubscribe) and one read.
  app.post<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const subject = verifyToken(settings.secret, 'unsubscribe', request.params.token);
    const done = subject ? await subscribers.unsubscribe(subject.subscriberId, subject.listId, clock()) : null;
    if (!subject || !done) return invalidLink(reply);
    markPrivate(reply);
    const list = { name: done.listName };
    const newsletters = await subscribers.listPageNewsletters(subject.listId);
    return sendPage(
      reply,
      200,
      'Unsubscribed',
      html`<h1>You are unsubscribed</h1><p><strong>${done.email}</strong> gets no more <strong>${listLabel(list.name, newsletters)}</strong>, starting now.</p>
<p class="muted">Changed your mind? <a href="${preferencesPath(preferencesUrl(settings, subject.subscriberId, subject.listId))}">Manage your subscriptions</a>.</p>`,
      { site: siteOfList(list, newsletters), head: PUBLIC_HEAD },
    );
  });

  app.get('/unsubscribe', async (_request, reply) =>
    sendPage(
      reply,
      200,
      'Unsubscribe',
      html`<h1>Unsubscribe</h1><p>Every email we send has a personal unsubscribe link at the bottom. Use the one in the most recent email you received: it works in one click.</p>`,
      { site: publicSite('Subscription'), head: PUBLIC_HEAD },
    ),
  );

  // -------------------------------------------------------------- preferences

  const preferencesSubject = async (token: string) => {
    const subject = verifyToken(settings.secret, 'preferences', token);
    if (!subject) return null;
    const view = await subscribers.preferences(subject.subscriberId);
    return view ? { subject, view } : null;
  };

  const preferencesPage = async (token: string, view: PreferencesView, tokenListId: number, notice?: { text: SafeHtml | string; error?: boolean }): Promise<{ body: SafeHtml; site: PageSite }> => {
    const action = `/p/${token}`;
    const blocked = view.status === 'bounced' || view.status === 'complained' || (view.suppression !== null && view.suppression !== 'unsubscribed' && view.suppression !== 'erased');
    const button = (name: string, label: string, listId: number | null, cls = '') =>
      html`<form class="inline" method="post" action="${action}"><input type="hidden" name="action" value="${name}">${listId === null ? '' : html`<input type="hidden" name="list" value="${listId}">`}<button type="submit"${cls ? html` class="${cls}"` : ''}>${label}</button></form>`;
    const newsletters = await stores.newsletters.listNewsletters();
    const labels = new Map(view.memberships.map((m) => [m.listId, listLabel(m.listName, newsletters.filter((n) => n.listId === m.listId))]));
    const rows = view.memberships.map((m) => {
      const actions: SafeHtml[] = [];
      if (m.status === 'pending' && !blocked) actions.push(button('resubscribe', 'Confirm', m.listId, 'primary'));
      if (m.status !== 'unsubscribed') actions.push(button('unsubscribe', m.status === 'pending' ? 'Cancel' : 'Unsubscribe', m.listId));
      if (m.status === 'unsubscribed' && !blocked) actions.push(button('resubscribe', 'Subscribe again', m.listId));
      return html`<tr><td><strong>${labels.get(m.listId) ?? m.listName}</strong>${m.listDescription ? html`<div class="muted">${m.listDescription}</div>` : ''}</td><td><span class="status status-${m.status}">${STATUS_LABELS[m.status]}</span></td><td>${actions.map((a, i) => (i === 0 ? a : html` ${a}`))}</td></tr>`;
    });
    const anyActive = view.memberships.some((m) => m.status !== 'unsubscribed');
    const tokenList = view.memberships.find((m) => m.listId === tokenListId);
    const sender = newsletters.filter((n) => n.listId === tokenListId).sort((a, b) => a.id - b.id)[0];
    const site = siteForNewsletter(sender, tokenList ? await stores.audience.getList(tokenList.listId) : null, sender ? await subscribers.isArchivePublic(sender.id) : false);
    const body = html`<h1>Your subscriptions</h1>
${notice ? html`<p class="notice${notice.error ? ' error' : ''}" role="status">${notice.text}</p>` : ''}
<p>Email: <strong>${view.email}</strong></p>
${blocked ? html`<p class="notice error">Mail to this address bounced or was reported as spam, so nothing is sent to it. Write to the sender to lift the block.</p>` : ''}
<div class="card">
${view.memberships.length > 0 ? html`<table><thead><tr><th>Subscription</th><th>Status</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted">You are on no list.</p>`}
</div>
<h2>Your name</h2>
<form method="post" action="${action}"><input type="hidden" name="action" value="name">
<div class="form-row"><label for="name">Name <span class="hint">(used to greet you; may be empty)</span></label><input id="name" type="text" name="name" maxlength="${NAME_MAX_LENGTH}" autocomplete="name" value="${view.name}"></div>
<button type="submit">Save name</button></form>
${anyActive ? html`<h2>Leave everything</h2><p>${button('unsubscribe-all', 'Unsubscribe from all lists', null, 'danger')}</p>` : ''}
<p class="muted">We do not track opens or clicks.</p>`;
    return { body, site };
  };

  app.get<{ Params: { token: string }; Querystring: { done?: string; list?: string } }>('/p/:token', async (request, reply) => {
    const found = await preferencesSubject(request.params.token);
    if (!found) return invalidLink(reply);
    markPrivate(reply);
    let notice: { text: string } | undefined;
    const done = request.query.done;
    if (isDoneCode(done)) {
      const list = found.view.memberships.find((m) => String(m.listId) === request.query.list);
      if (done === 'unsubscribed' || done === 'resubscribed') {
        if (list) notice = { text: `${DONE_MESSAGES[done]} ${listLabel(list.listName, (await stores.newsletters.listNewsletters()).filter((n) => n.listId === list.listId))}.` };
      } else notice = { text: DONE_MESSAGES[done] };
    }
    const page = await preferencesPage(request.params.token, found.view, found.subject.listId, notice);
    return sendPage(reply, 200, 'Your subscriptions', page.body, { site: page.site, head: PUBLIC_HEAD });
  });

  app.post<{ Params: { token: string }; Body: unknown }>('/p/:token', async (request, reply) => {
    const found = await preferencesSubject(request.params.token);
    if (!found) return invalidLink(reply);
    markPrivate(reply);
    const { subject, view } = found;
    const token = request.params.token;
    const body = request.body;
    const action = field(body, 'action');
    const back = (done: DoneCode, listId?: number) => reply.redirect(`/p/${token}?done=${done}${listId === undefined ? '' : `&list=${listId}`}`, 303);
    const problem = async (status: number, text: string) => {
      const page = await preferencesPage(token, view, subject.listId, { text, error: true });
      return sendPage(reply, status, 'Your subscriptions', page.body, { site: page.site, head: PUBLIC_HEAD });
    };
    // The list a button names must be one of theirs; the token's own list is always theirs to leave, and is the
    // list when none is named (the older form posted only action=unsubscribe).
    const listOf = (): number | null => {
      const raw = field(body, 'list');
      if (raw === undefined) return subject.listId;
      const id = typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : null;
      if (id === null) return null;
      return id === subject.listId || view.memberships.some((m) => m.listId === id) ? id : null;
    };
    const now = clock();

    if (action === undefined || action === '' || typeof body === 'string') {
      // A bare POST (the older form, or a client posting anything): leave the token's list, like /u.
      await subscribers.unsubscribe(view.subscriberId, subject.listId, now);
      return back('unsubscribed', subject.listId);
    }
    switch (action) {
      case 'name': {
        const parsed = parseName(field(body, 'name'));
        if (!parsed.ok) return problem(400, parsed.problem);
        await subscribers.updateName(view.subscriberId, parsed, now);
        return back('name');
      }
      case 'unsubscribe': {
        const listId = listOf();
        if (listId === null) return problem(400, 'That list is not one of yours.');
        await subscribers.unsubscribe(view.subscriberId, listId, now);
        return back('unsubscribed', listId);
      }
      case 'unsubscribe-all':
        await subscribers.unsubscribeAll(view.subscriberId, now);
        return back('unsubscribed-all');
      case 'resubscribe': {
        const listId = listOf();
        if (listId === null || !view.memberships.some((m) => m.listId === listId)) return problem(400, 'That list is not one of yours.');
        const outcome = await subscribers.resubscribe(view.subscriberId, listId, settings.recordIp ? request.ip : null, now);
        if (outcome === 'blocked') return problem(409, 'Mail to this address bounced or was reported as spam, so it cannot be subscribed here.');
        if (outcome === 'unknown') return invalidLink(reply);
        return back('resubscribed', listId);
      }
      default:
        return problem(400, 'Unknown action.');
    }
  });
}

/** A preferences URL as a path on this server (pages link relatively; PUBLIC_URL may differ from how the page was reached). */
function preferencesPath(url: string): string {
  const at = url.indexOf('/p/');
  return at >= 0 ? url.slice(at) : url;
}
