/** The `mailroom` command line: argument parsing only; each command loads what it needs when it runs, so --help is instant. */
import { Command, CommanderError, Option } from 'commander';
import type { SettingsUse } from '../config.ts';
import { isMailroomError } from '../core/errors.ts';
import { cli, runWithCliContext, type CliContext } from './context.ts';
import { printError } from './output.ts';

type Action = (...args: never[]) => Promise<number | void>;

/**
 * Wraps a lazily imported command so its exit code becomes the process's. A command that sends or builds links for
 * readers names its `use`: the settings are checked against the rule `serve` applies (checkSettingsFor) before the
 * command loads or touches anything. (`serve` itself checks in startService.)
 */
function lazy<K extends string>(load: () => Promise<Record<K, Action>>, name: K, use?: SettingsUse) {
  return async (...args: unknown[]): Promise<void> => {
    if (use !== undefined) {
      const { checkSettingsFor, loadConfig } = await import('../config.ts');
      checkSettingsFor(loadConfig(cli().env, cli().cwd), use);
    }
    const module = await load();
    const code = await (module[name] as (...a: unknown[]) => Promise<number | void>)(...args);
    if (typeof code === 'number' && code !== 0) cli().exitCode = code;
  };
}

const commands = () => import('./commands.ts');
const contentCommands = () => import('./commands-content.ts');
const subscriberCommands = () => import('./commands-subscribers.ts');
const deliverabilityCommands = () => import('./commands-deliverability.ts');
const accountCommands = () => import('./commands-accounts.ts');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function buildProgram(): Command {
  const program = new Command('mailroom')
    .description('Self-hosted newsletters: articles → React Email → per-recipient Handlebars → SMTP.\nSettings come from the environment or .env: DATABASE_URL, SMTP_URL, PORT, PUBLIC_URL, SECRET (see README).')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });

  program
    .command('serve')
    .description('Run the web server (unsubscribe links, web versions, sign-up, archive) and, when SMTP_URL is unset, the built-in SMTP inbox at /inbox. In local development it loads the demo workspace into an empty database.')
    .option('--port <port>', 'HTTP port (default: PORT or 3000)')
    .option('--no-demo', 'in local development, do not load the demo workspace into an empty database')
    .option('--no-migrate', 'do not apply missing migrations at start (also MIGRATE_ON_START=false); stop if the schema is behind')
    .option('--no-send', 'do not send campaigns from this process (leave them to `mailroom worker` processes)')
    .action(lazy(commands, 'serveCommand'));

  program
    .command('worker')
    .description('Send campaigns only (no HTTP server): on Postgres, any number of workers on one or many hosts send the same campaign together; the scheduler runs in whichever process is its leader')
    .option('--no-migrate', 'do not apply missing migrations at start (also MIGRATE_ON_START=false); stop if the schema is behind')
    .action(lazy(commands, 'workerCommand'));

  program
    .command('migrate')
    .description('Apply the database migrations DATABASE_URL lacks (SQLite or Postgres); safe to run from several processes at once')
    .action(lazy(commands, 'migrateCommand'));

  program
    .command('demo')
    .description('Load the demo workspace (list "demo", newsletter "weekly", the articles shipped in data/articles); safe to run again; outside local development this is the only way to get it')
    .action(lazy(commands, 'demoCommand'));

  const articles = program.command('articles').description('Import and list articles, and assign them to newsletters (a newsletter takes only its own)');
  articles
    .command('import')
    .argument('<source>', 'an http(s) URL, a saved page (.html, .htm), text copied from a page (.txt), a Markdown file with front matter (.md), or a folder of Markdown files')
    .option('--url <url>', 'for a saved page or page text: the address it came from (resolves relative links; becomes the canonical URL)')
    .option('--newsletter <slug>', 'the newsletter the articles are for (without it they belong to none until assigned)')
    .description('Import articles from the web, saved pages, page text or Markdown; everything is sanitized; re-importing updates by slug or canonical URL, never duplicates')
    .action(lazy(contentCommands, 'articlesImportCommand'));
  articles
    .command('list')
    .description('List articles, newest first, with the newsletters they belong to')
    .option('--limit <n>', 'how many', '50')
    .option('--newsletter <slug>', 'only the articles of this newsletter')
    .option('--unassigned', 'only the articles that belong to no newsletter')
    .action(lazy(contentCommands, 'articlesListCommand'));
  articles
    .command('assign')
    .argument('<newsletter>', 'the newsletter')
    .argument('<articles...>', 'slugs, ids or canonical URLs')
    .description("Add articles to a newsletter: its next issues may carry them (until a campaign of it has)")
    .action(lazy(contentCommands, 'articlesAssignCommand'));
  articles
    .command('unassign')
    .argument('<newsletter>', 'the newsletter')
    .argument('<articles...>', 'slugs, ids or canonical URLs')
    .description("Take articles out of a newsletter, even ones its feeds or tags bring; they stay stored, and other newsletters keep them")
    .action(lazy(contentCommands, 'articlesUnassignCommand'));

  const feeds = program.command('feeds').description('RSS and Atom feeds that feed a newsletter (RSS-to-email)');
  const fullContent = () =>
    new Option('--full-content <mode>', "where an item's text comes from: auto (the feed's when it looks complete, else the linked page), feed, or page").choices(['auto', 'feed', 'page']);
  feeds
    .command('add')
    .argument('<newsletter>', 'the newsletter the feed feeds')
    .argument('<url>', "the feed's URL, or a page that links to its feed")
    .addOption(fullContent().default('auto'))
    .option('--no-poll', 'only add it; import its items later with feeds poll')
    .description("Add a feed to a newsletter and import its items; the newsletter's issues then carry what arrived since the last one was sent")
    .action(lazy(contentCommands, 'feedsAddCommand'));
  feeds
    .command('list')
    .option('--newsletter <slug>', 'only the feeds of this newsletter')
    .description('List feeds with their mode, item count, last poll and problems')
    .action(lazy(contentCommands, 'feedsListCommand'));
  feeds
    .command('poll')
    .argument('[feed]', 'a feed id or URL (default: every feed)')
    .option('--newsletter <slug>', "only this newsletter's feeds")
    .option('--json', 'progress and the result as JSON lines on standard output (one object per line; other lines go to standard error)')
    .description('Poll feeds now and import new and changed items; prints new, updated, unchanged and errors per feed (exit code 1 on errors), with progress over the feeds')
    .action(lazy(contentCommands, 'feedsPollCommand'));
  feeds
    .command('remove')
    .argument('<feed>', 'a feed id or URL')
    .option('--newsletter <slug>', 'the newsletter, when the URL feeds several')
    .description('Remove a feed (the articles it brought stay)')
    .action(lazy(contentCommands, 'feedsRemoveCommand'));
  feeds
    .command('set')
    .argument('<feed>', 'a feed id or URL')
    .option('--newsletter <slug>', 'the newsletter, when the URL feeds several')
    .addOption(fullContent().makeOptionMandatory())
    .description("Change where a feed's item text comes from")
    .action(lazy(contentCommands, 'feedsSetCommand'));

  const subscribers = program.command('subscribers').description('Import, add, remove and list subscribers');
  subscribers
    .command('import')
    .argument('<file>', 'CSV file with a header row: email (required), name or first_name/last_name, any other column becomes an attribute')
    .requiredOption('--list <name>', 'list to add them to')
    .option('--create-list', 'create the list when it does not exist')
    .option('--strict', 'import nothing at all when any row is rejected')
    .option('--json', 'progress and the report as JSON lines on standard output (one object per line)')
    .description('Import subscribers from a CSV (streamed; unsubscribed and suppressed people stay so), with progress: a bar on a terminal, else a line every PROGRESS_INTERVAL_SECONDS. Exit code 1 when rows were rejected.')
    .action(lazy(commands, 'subscribersImportCommand'));
  subscribers
    .command('add')
    .argument('<email>')
    .requiredOption('--list <name>', 'list to add them to')
    .option('--name <name>', 'full name')
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--attr <key=value>', 'a custom attribute (repeatable)', collect, [])
    .description('Add one subscriber to a list (or update them)')
    .action(lazy(commands, 'subscribersAddCommand'));
  subscribers
    .command('remove')
    .argument('<email>')
    .option('--list <name>', 'only remove them from this list')
    .description('Delete a subscriber (or, with --list, only their membership)')
    .action(lazy(commands, 'subscribersRemoveCommand'));
  subscribers
    .command('list')
    .option('--list <name>', 'only members of this list')
    .addOption(new Option('--status <status>', 'only with this status').choices(['active', 'unsubscribed', 'bounced', 'complained']))
    .option('--search <text>', 'only those whose address or name contains this text (case-insensitive)')
    .option('--prefix', 'with --search: only addresses that start with the text (fast on large lists: uses the address index)')
    .option('--limit <n>', 'how many', '100')
    .option('--offset <n>', 'skip this many', '0')
    .option('--all', 'every match, however many (ignores --limit and --offset)')
    .option('--json', 'print JSON (the "showing N of M" line goes to standard error)')
    .description('List subscribers with their lists, and say how many of how many are shown ("showing 100 of 50,000")')
    .action(lazy(commands, 'subscribersListCommand'));
  subscribers
    .command('show')
    .argument('<email>')
    .description('One person: status, lists, suppression, every campaign send, and the bounces and complaints after it')
    .action(lazy(deliverabilityCommands, 'subscribersShowCommand'));
  subscribers
    .command('export')
    .argument('<email>')
    .option('--out <file>', 'write the JSON to this file (readable by its owner only) instead of standard output')
    .description('Everything held about one address as JSON: profile, lists and consent, every send, any suppression')
    .action(lazy(subscriberCommands, 'subscribersExportCommand'));
  subscribers
    .command('erase')
    .argument('<email>')
    .description('Delete everything held about one address but a hashed suppression, so nothing is mailed to it again without a new confirmation')
    .action(lazy(subscriberCommands, 'subscribersEraseCommand'));

  const lists = program.command('lists').description('Create and list mailing lists');
  lists
    .command('create')
    .argument('<name>')
    .option('--description <text>', 'what the list is for', '')
    .description('Create a list')
    .action(lazy(commands, 'listsCreateCommand'));
  lists.command('list').description('List lists with their member counts').action(lazy(commands, 'listsListCommand'));
  lists
    .command('form')
    .argument('<name>')
    .option('--no-name', 'leave out the optional name field')
    .description('Print an embeddable HTML sign-up form for a list (posts to /subscribe/NAME; double opt-in)')
    .action(lazy(subscriberCommands, 'listsFormCommand', 'links'));
  lists
    .command('signup')
    .argument('<name>')
    .argument('<state>', 'on or off')
    .description('Open or close the hosted sign-up page and form of a list (open by default)')
    .action(lazy(subscriberCommands, 'listsSignupCommand'));

  lists
    .command('welcome')
    .argument('<name>')
    .argument('<state>', 'on or off')
    .option('--subject <text>', 'subject line (default: "Welcome to <newsletter name>")')
    .option('--message <text>', 'the message, plain text (blank lines between paragraphs); shown exactly as written')
    .option('--message-file <file>', 'read the message from a text file')
    .description('Send a welcome email (emails/welcome.tsx) to each person who confirms the list from now on')
    .action(lazy(deliverabilityCommands, 'listsWelcomeCommand'));

  const newsletter = program.command('newsletter').description('Create and list newsletters');
  newsletter
    .command('create')
    .argument('<slug>', 'short id used on the command line, e.g. weekly')
    .requiredOption('--name <name>', 'shown in the header and the List-Id')
    .requiredOption('--from <address>', 'sender, e.g. "Mailroom Weekly <news@example.com>"')
    .requiredOption('--list <name>', 'the list it goes to')
    .requiredOption('--postal-address <text>', "the sender's postal address (required by CAN-SPAM)")
    .option('--reply-to <address>', 'Reply-To address')
    .addOption(new Option('--template <name>', 'email template').choices(['digest', 'article']).default('digest'))
    .option('--logo <url>', 'logo URL (absolute, or /media/… on this server)', '')
    .option('--subject <pattern>', 'subject pattern: {title} lead article, {name} newsletter, {number} issue; may use {{firstName}}', '{title}')
    .option('--max-articles <n>', 'most articles in an automatic issue', '5')
    .option('--language <tag>', 'language of the email (lang attribute)', 'en')
    .option('--tag <tag>', 'take the articles that carry this tag (repeatable)', collect, [])
    .description('Create a newsletter')
    .action(lazy(commands, 'newsletterCreateCommand'));
  newsletter
    .command('set')
    .argument('<slug>')
    .option('--tag <tag>', 'take the articles that carry this tag (repeatable; replaces the tags it selects)', collect, [])
    .option('--clear-tags', 'select no tag any more')
    .description('Change which tags a newsletter selects: articles that carry one of them belong to it')
    .action(lazy(commands, 'newsletterSetCommand'));
  newsletter.command('list').description('List newsletters').action(lazy(commands, 'newsletterListCommand'));
  newsletter
    .command('archive')
    .argument('<slug>')
    .argument('<state>', 'on or off')
    .description('Make the archive index and RSS feed of a newsletter public (on, the default) or not (off); sent issues stay reachable at their "view in browser" link')
    .action(lazy(subscriberCommands, 'newsletterArchiveCommand'));
  newsletter
    .command('schedule')
    .argument('<newsletter>')
    .argument('<cron>', 'cron expression, e.g. "0 9 * * MON" (minute hour day-of-month month day-of-week)')
    .requiredOption('--tz <zone>', 'IANA time zone the expression is read in, e.g. Europe/Berlin')
    .option('--when-empty <policy>', 'when no new article was published since the last issue: skip or send', 'skip')
    .description('Send the newsletter on a schedule (mailroom serve runs it); each slot sends exactly once')
    .action(lazy(commands, 'newsletterScheduleCommand'));
  newsletter
    .command('tracking')
    .argument('<newsletter>')
    .option('--opens <on|off>', 'count opens with a 1×1 image (machine opens such as Apple Mail Privacy Protection counted apart)')
    .option('--clicks <on|off>', 'count clicks through signed redirects on this server')
    .option('--people <on|off>', 'keep who opened and clicked (per-subscriber data, for unique counts and exports; off by default: aggregate counts only)')
    .description('Opt-in open and click counts for the newsletter\'s next campaigns (off by default; aggregate unless --people on); without options, show the switches')
    .action(lazy(deliverabilityCommands, 'newsletterTrackingCommand'));
  newsletter.command('unschedule').argument('<newsletter>').description('Remove a newsletter\'s schedule').action(lazy(commands, 'newsletterUnscheduleCommand'));

  const issue = program.command('issue').description('Build and list issues');
  issue
    .command('build')
    .argument('<newsletter>')
    .option('--articles <refs>', "comma-separated slugs (lead first), any article (it becomes the newsletter's); default: the newsletter's newest articles not yet sent in it")
    .option('--max <n>', 'most articles when picking automatically')
    .option('--subject <pattern>', 'subject pattern for this issue: {title} lead article, {name} newsletter, {number} issue; may use {{firstName}} and other recipient variables')
    .option('--preheader <pattern>', 'inbox preview text, a pattern like --subject (default: the lead article\'s summary)')
    .description('Assemble the next issue and render it once')
    .action(lazy(commands, 'issueBuildCommand', 'links'));
  issue.command('list').argument('<newsletter>').description('List the issues of a newsletter').action(lazy(commands, 'issueListCommand'));

  program
    .command('preview')
    .argument('<target>', 'NEWSLETTER (its next issue) or NEWSLETTER/NUMBER (e.g. weekly/3)')
    .requiredOption('--out <file>', 'where to write the HTML (or text with --text)')
    .option('--text', 'write the plain-text part instead of the HTML')
    .option('--as <email>', 'personalize for this subscriber (default: a sample reader)')
    .description('Write what a subscriber would receive to a file')
    .action(lazy(commands, 'previewCommand', 'links'));

  program
    .command('send')
    .argument('<newsletter>')
    .option('--list <name>', 'send to this list instead of the newsletter\'s own')
    .option('--issue <number>', 'send this issue (again) instead of the next one')
    .option('--dry-run', 'render and personalize every message, send nothing')
    .option('--test <email>', 'send one copy to this address, not to the list')
    .option('--resend', 'also mail members who already received this issue in an earlier campaign (by default they are left out)')
    .option('--allow-large', 'send even when the HTML is over Gmail\'s 102 KB clipping limit')
    .option('--force', 'override every check: --resend and --allow-large together')
    .option('--at <time>', 'schedule instead of sending now: "YYYY-MM-DD HH:MM" (in --tz) or an ISO time; mailroom serve sends it then')
    .option('--tz <zone>', 'IANA time zone of --at (default: this machine\'s)')
    .option('--json', 'progress and the result as JSON lines on standard output (one object per line; other lines go to standard error)')
    .description('Send the next issue (building it from unsent articles when needed) as a campaign, with progress: a bar on a terminal, else a line every PROGRESS_INTERVAL_SECONDS')
    .action(lazy(commands, 'sendCommand', 'send'));

  const campaigns = program.command('campaigns').description('Inspect and resume campaigns');
  campaigns.command('list').option('--limit <n>', 'how many', '20').description('List recent campaigns').action(lazy(commands, 'campaignsListCommand'));
  campaigns
    .command('show')
    .argument('<id>')
    .option('--status <status>', 'list the sends with this status (e.g. failed)')
    .description('Progress of one campaign, its failures and possible duplicates')
    .action(lazy(commands, 'campaignsShowCommand'));
  campaigns
    .command('stats')
    .argument('<id>')
    .option('--json', 'print JSON')
    .description('Delivered, deferred, bounced (hard/soft), complaints and unsubscribes of one campaign')
    .action(lazy(deliverabilityCommands, 'campaignsStatsCommand'));
  campaigns.command('pause').argument('<id>').description('Pause: the messages in flight finish, nothing more goes out until resume').action(lazy(commands, 'campaignsPauseCommand'));
  campaigns
    .command('resume')
    .argument('<id>')
    .option('--json', 'progress and the result as JSON lines on standard output (one object per line; other lines go to standard error)')
    .description('Resume a paused or interrupted campaign and send it here, in the foreground, with progress')
    .action(lazy(commands, 'campaignsResumeCommand', 'send'));
  campaigns.command('cancel').argument('<id>').description('Cancel: recipients not yet mailed are skipped').action(lazy(commands, 'campaignsCancelCommand'));
  campaigns
    .command('retry-failed')
    .argument('<id>')
    .option('--now', 'send them here in the foreground instead of leaving them to mailroom serve')
    .option('--json', 'progress and the result as JSON lines on standard output (one object per line; other lines go to standard error)')
    .description('Queue the failed sends again (never suppressed addresses)')
    .action(lazy(commands, 'campaignsRetryFailedCommand', 'send'));

  const bounces = program.command('bounces').description('Bounces and complaints that arrive after the 250 (BOUNCE_DOMAIN, BOUNCE_IMAP_URL, BOUNCE_SMTP_PORT)');
  bounces
    .command('poll')
    .description('Read the bounce mailbox (BOUNCE_IMAP_URL) once: hard bounces and complaints suppress, soft bounces count; other mail is left alone')
    .action(lazy(deliverabilityCommands, 'bouncesPollCommand'));

  const suppress = program.command('suppress').description('The suppression list: addresses and whole domains never mailed, whatever an import says');
  suppress
    .command('add')
    .argument('<address-or-domain>', 'someone@example.com, or @example.com for every address at that domain')
    .option('--reason <text>', 'why (shown in the list)', 'manual')
    .description('Suppress an address or a whole domain')
    .action(lazy(deliverabilityCommands, 'suppressAddCommand'));
  suppress
    .command('remove')
    .argument('<address-or-domain>')
    .description('Lift a suppression (list memberships stay as they are)')
    .action(lazy(deliverabilityCommands, 'suppressRemoveCommand'));
  suppress
    .command('list')
    .option('--reason <reason>', 'only this reason (e.g. hard-bounce, complaint, manual)')
    .option('--limit <n>', 'how many of each kind', '1000')
    .option('--json', 'print JSON')
    .description('List suppressed domains and addresses with their reasons')
    .action(lazy(deliverabilityCommands, 'suppressListCommand'));
  suppress
    .command('import')
    .argument('<file>', 'one address or @domain a line, optionally followed by ",reason"; # comments and blank lines skipped')
    .option('--reason <text>', 'reason for lines without one', 'manual')
    .description('Suppress every address and domain in a file (every line is checked first: one bad line adds nothing)')
    .action(lazy(deliverabilityCommands, 'suppressImportCommand'));

  const webhooks = program.command('webhooks').description('Outbound webhooks: signed JSON events to your URLs (Standard Webhooks), delivered by mailroom serve');
  webhooks
    .command('add')
    .argument('<url>', 'an http(s) URL on a public address (the same rule as fetching articles: FETCH_ALLOW_PRIVATE)')
    .option('--events <list>', 'comma-separated: subscriber.created, subscriber.confirmed, subscriber.unsubscribed, subscriber.bounced, subscriber.complained, campaign.started, campaign.finished, send.failed (default: all)', collect, [])
    .description('Add an endpoint; prints its signing secret once')
    .action(lazy(deliverabilityCommands, 'webhooksAddCommand'));
  webhooks.command('list').description('Endpoints with their events and delivery counts').action(lazy(deliverabilityCommands, 'webhooksListCommand'));
  webhooks.command('remove').argument('<id>').description('Remove an endpoint and its delivery log').action(lazy(deliverabilityCommands, 'webhooksRemoveCommand'));
  webhooks
    .command('deliveries')
    .argument('<id>')
    .option('--limit <n>', 'how many, newest first', '50')
    .description('The delivery log of one endpoint: each event, its status, attempts and last answer')
    .action(lazy(deliverabilityCommands, 'webhooksDeliveriesCommand'));

  const schedule = program.command('schedule').description('Schedules of newsletters');
  schedule
    .command('list')
    .option('--runs <n>', 'how many next runs to show', '5')
    .description('Every schedule with its next runs in the newsletter\'s time zone and its recent slots')
    .action(lazy(commands, 'scheduleListCommand'));
  schedule
    .command('retry')
    .argument('<newsletter>')
    .argument('[slot]', 'the slot as `schedule list` shows it, or "YYYY-MM-DD HH:MM" in the schedule\'s time zone (default: the latest failed one)')
    .description('Build and send a scheduled slot whose issue could not be built, once, here in the foreground')
    .action(lazy(commands, 'scheduleRetryCommand'));

  const users = program.command('users').description('Accounts for the web app and the API: owner (everything), editor (content, subscribers, campaigns), viewer (read only)');
  users
    .command('create')
    .argument('<email>')
    .requiredOption('--role <role>', 'owner, editor or viewer')
    .description('Create a user; prints a one-time link where they choose their password')
    .action(lazy(accountCommands, 'usersCreateCommand'));
  users.command('list').description('List users with their role and state').action(lazy(accountCommands, 'usersListCommand'));
  users.command('disable').argument('<email>').description('Disable a user: their sessions end at once and they cannot log in').action(lazy(accountCommands, 'usersDisableCommand'));
  users.command('enable').argument('<email>').description('Enable a disabled user again').action(lazy(accountCommands, 'usersEnableCommand'));
  users.command('reset-password').argument('<email>').description('Print a one-time link (24 hours) where the user chooses a new password').action(lazy(accountCommands, 'usersResetPasswordCommand'));

  const tokens = program.command('tokens').description('API tokens for scripts (Authorization: Bearer mr_…)');
  tokens
    .command('create')
    .argument('<name>')
    .requiredOption('--role <role>', 'owner, editor or viewer')
    .description('Create a token; it is printed once and only its hash is stored')
    .action(lazy(accountCommands, 'tokensCreateCommand'));
  tokens.command('list').description('List tokens (never their value)').action(lazy(accountCommands, 'tokensListCommand'));
  tokens.command('revoke').argument('<token>', 'id or name').description('Revoke a token: it stops working at once').action(lazy(accountCommands, 'tokensRevokeCommand'));

  const templates = program.command('templates').description('Email templates in emails/');
  templates
    .command('render')
    .option('--out <dir>', 'output folder', 'data/out')
    .option('--json', 'progress and the result as JSON lines on standard output (one object per line; other lines go to standard error)')
    .description('Render every template with its PreviewProps to HTML and text files, with progress over the templates')
    .action(lazy(commands, 'templatesRenderCommand'));

  return program;
}

/** Usage errors anywhere in the tree throw instead of exiting, so main() can answer them with exit code 2; help and usage errors go to the run's output. */
function overrideExits(command: Command): void {
  command.exitOverride();
  command.configureOutput({ writeOut: (text) => cli().stdout.write(text), writeErr: (text) => cli().stderr.write(text) });
  for (const sub of command.commands) overrideExits(sub);
}

/** Runs `mailroom …argv` (argv as process.argv: node and script first) and returns its exit code; `context` replaces the process's environment, working directory or output. */
export function main(argv: readonly string[], context: Partial<CliContext> = {}): Promise<number> {
  return runWithCliContext(context, () => run(argv));
}

async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  overrideExits(program);
  try {
    await program.parseAsync([...argv]);
    return cli().exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (isMailroomError(error)) {
      printError(`mailroom: ${error.message}`);
      for (const line of error.details) printError(`  ${line}`);
      return 1;
    }
    printError(`mailroom: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}
