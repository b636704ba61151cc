import { InvalidArgumentError, type Command } from 'commander';
import { createSubscription, getSubscription, listSubscriptions, rotateSecret, ROTATION_OVERLAP_MS, updateSubscription } from '../../outbox/subscriptions';
import type { SubscriptionFilter } from '../../outbox/filter';
import { sendTestEvent } from '../../outbox/test-send';
import type { AppContext } from '../../context';
import { withContext } from '../context';
import { commaList, EXIT, out, positive, printJson, printTable } from '../io';
import { formatFields } from '../table';

type SubscriptionView = Awaited<ReturnType<typeof getSubscription>>;

/** What a dry run's transaction throws to roll back, carrying the answer it would have given. */
class RolledBack<T> extends Error {
  constructor(readonly value: T) {
    super('rolled back (dry run)');
  }
}

const filterText = (f: SubscriptionFilter) => {
  const parts = Object.entries(f)
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k, v]) => `${k}=${(v as string[]).join(',')}`);
  return parts.length > 0 ? parts.join(' ') : 'everything';
};

/** The fields of one subscription; custom headers by name only (their values may be credentials of the subscriber). */
function fields(s: Omit<SubscriptionView, 'id'> & { id?: string }): [string, unknown][] {
  return [
    ...(s.id !== undefined ? [['id', s.id] as [string, unknown]] : []),
    ['url', s.url],
    ['filter', filterText(s.filter)],
    ['description', s.description],
    ['enabled', s.enabled ? 'yes' : `no${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`],
    ['failing since', s.failing_since],
    ['headers', Object.keys(s.headers ?? {}).join(', ')],
    ['rate limit', s.rateLimitPerSecond === null || s.rateLimitPerSecond === undefined ? null : `${s.rateLimitPerSecond}/s`],
    ['rotating until', s.rotating_until],
    ['created', s.created_at],
  ];
}

function printSubscription(s: SubscriptionView, secret?: string): void {
  for (const line of formatFields([...fields(s), ...(secret !== undefined ? [['secret', secret] as [string, unknown]] : [])])) out(line);
}

/**
 * A dry run on one subscription: it is read as it is now, and `say` tells what would happen to it
 * (`--json`: `{ dry_run: true, subscription, ...extra }`). Nothing is changed.
 */
async function preview(
  db: AppContext['dbh']['db'],
  id: string,
  json: boolean | undefined,
  say: (s: SubscriptionView) => string,
  extra: (s: SubscriptionView) => Record<string, unknown> = () => ({}),
): Promise<void> {
  const s = await getSubscription(db, id);
  if (json) printJson({ dry_run: true, subscription: s, ...extra(s) });
  else out(say(s));
}

/** `--header 'Name: value'`, repeatable: the subscription's custom headers. */
function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(':');
  if (colon < 1) throw new InvalidArgumentError('expected "Name: value"');
  return { ...previous, [value.slice(0, colon).trim()]: value.slice(colon + 1).trim() };
}

interface CreateOptions {
  url: string;
  providers?: string[];
  channels?: string[];
  statuses?: string[];
  types?: string[];
  description?: string;
  header?: Record<string, string>;
  rateLimit?: number;
  disabled?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function subscriptionsCommand(program: Command): void {
  const subs = program
    .command('subscriptions')
    .description('outbound webhook subscriptions (as /v1/subscriptions): secrets are printed only by create and rotate');

  subs
    .command('list')
    .description('every subscription')
    .option('--json', 'the answer of GET /v1/subscriptions')
    .action(async (o: { json?: boolean }) => {
      await withContext(
        async (ctx) => {
          const list = await listSubscriptions(ctx.dbh.db);
          if (o.json) return printJson(list);
          printTable(
            list.items,
            [
              { header: 'ID', value: (s) => s.id },
              { header: 'ENABLED', value: (s) => (s.enabled ? 'yes' : 'no') },
              { header: 'URL', value: (s) => s.url },
              { header: 'FILTER', value: (s) => filterText(s.filter) },
              { header: 'DESCRIPTION', value: (s) => s.description },
              { header: 'DISABLED REASON', value: (s) => s.disabled_reason },
            ],
            'no subscriptions',
          );
        },
        { secrets: 'optional' },
      );
    });

  subs
    .command('create')
    .description('a new subscription: prints its id and its secret (whsec_…), shown this once')
    .requiredOption('--url <url>', 'where events are POSTed (http or https)')
    .option('--providers <list>', 'only events of these providers (comma list)', commaList)
    .option('--channels <list>', 'only these channels: sms, email (comma list)', commaList)
    .option('--statuses <list>', 'only these statuses: queued, sent, deferred, delivered, failed, expired, rejected (comma list)', commaList)
    .option('--types <list>', 'only these event types: message.status, message.engagement (comma list)', commaList)
    .option('--description <text>', 'a note for people')
    .option('--header <header>', 'a custom request header "Name: value" (repeatable)', header)
    .option('--rate-limit <n>', 'at most this many deliveries per second (rateLimitPerSecond)', positive)
    .option('--disabled', 'create it disabled')
    .option('--dry-run', 'check the subscription as create would and show it; store nothing')
    .option('--json', 'the answer of POST /v1/subscriptions (with the secret)')
    .action(async (o: CreateOptions) => {
      const filter: SubscriptionFilter = {};
      for (const k of ['providers', 'channels', 'statuses', 'types'] as const) if (o[k] !== undefined) filter[k] = o[k];
      const body: Record<string, unknown> = { url: o.url, filter };
      if (o.description !== undefined) body.description = o.description;
      if (o.header !== undefined) body.headers = o.header;
      if (o.rateLimit !== undefined) body.rateLimitPerSecond = o.rateLimit;
      if (o.disabled) body.enabled = false;
      await withContext(
        async (ctx) => {
          const create = (db: typeof ctx.dbh.db) => createSubscription(db, body, new Date(), ctx.config.delivery.allowPrivateNetworks);
          if (o.dryRun) {
            // the real create (every check it makes), in a transaction rolled back
            let preview: Awaited<ReturnType<typeof create>>;
            try {
              await ctx.dbh.db.transaction().execute(async (trx) => {
                throw new RolledBack(await create(trx));
              });
              throw new Error('unreachable');
            } catch (e) {
              if (!(e instanceof RolledBack)) throw e;
              preview = (e as RolledBack<typeof preview>).value;
            }
            const { id: _id, secret: _secret, ...shown } = preview;
            if (o.json) return printJson({ dry_run: true, would_create: shown });
            out('dry run: would create this subscription (nothing was stored):');
            for (const line of formatFields(fields(shown))) out(`  ${line}`);
            return;
          }
          const created = await create(ctx.dbh.db);
          if (o.json) return printJson(created);
          printSubscription(created, created.secret);
          out('');
          out('Keep the secret now: it is not shown again (`dlr subscriptions rotate` makes a new one).');
        },
        { secrets: 'optional' },
      );
    });

  for (const enabled of [false, true]) {
    const verb = enabled ? 'enable' : 'disable';
    subs
      .command(`${verb} <id>`)
      .description(
        enabled
          ? 'enable a subscription: its pending deliveries are due again at once, new events are delivered'
          : 'disable a subscription: nothing is delivered to it until it is enabled again (events are still queued for it)',
      )
      .option('--dry-run', 'say what would change; change nothing')
      .option('--json', 'the subscription as GET /v1/subscriptions/:id answers it')
      .action(async (id: string, o: { dryRun?: boolean; json?: boolean }) => {
        await withContext(
          async (ctx) => {
            if (o.dryRun)
              return preview(
                ctx.dbh.db,
                id,
                o.json,
                (now) => `dry run: ${id} is ${now.enabled ? 'enabled' : 'disabled'}: ${now.enabled === enabled ? 'nothing would change' : `would ${verb} it`}`,
                (now) => ({ would_change: now.enabled !== enabled }),
              );
            const s = await updateSubscription(ctx.dbh.db, id, { enabled }, new Date(), ctx.config.delivery.allowPrivateNetworks);
            if (o.json) return printJson(s);
            out(`${id} ${enabled ? 'enabled' : 'disabled'}`);
            printSubscription(s);
          },
          { secrets: 'optional' },
        );
      });
  }

  subs
    .command('rotate <id>')
    .description(`a new signing secret, printed once; the old one keeps signing beside it for ${ROTATION_OVERLAP_MS / 3_600_000} h`)
    .option('--dry-run', 'say what would happen; change nothing (no secret is printed)')
    .option('--json', 'the answer of POST /v1/subscriptions/:id/rotate-secret (with the new secret)')
    .action(async (id: string, o: { dryRun?: boolean; json?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (o.dryRun)
            return preview(
              ctx.dbh.db,
              id,
              o.json,
              () => `dry run: would give ${id} a new secret; its current one would keep signing for ${ROTATION_OVERLAP_MS / 3_600_000} h (nothing was changed)`,
            );
          const s = await rotateSecret(ctx.dbh.db, id, new Date());
          if (o.json) return printJson(s);
          printSubscription(s, s.secret);
          out('');
          out(`Keep the new secret now: it is not shown again. The old one signs too until ${s.rotating_until}.`);
        },
        { secrets: 'optional' },
      );
    });

  subs
    .command('test <id>')
    .description(
      'send a signed webhook.test event to the subscription now, once (also when it is disabled), and show the answer; exit 1 when it did not answer 2xx',
    )
    .option('--dry-run', 'say where it would be sent; send nothing')
    .option('--json', 'the answer of POST /v1/subscriptions/:id/test: { event, attempt }')
    .action(async (id: string, o: { dryRun?: boolean; json?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (o.dryRun) return preview(ctx.dbh.db, id, o.json, (s) => `dry run: would send a signed webhook.test event to ${s.url}; nothing was sent`);
          const { event, attempt } = await sendTestEvent(ctx, id);
          if (attempt.error !== null) process.exitCode = EXIT.failed;
          if (o.json) return printJson({ event, attempt });
          for (const line of formatFields([
            ['event', `${String(event.id)} (webhook.test)`],
            ['result', attempt.error === null ? 'ok' : `failed: ${attempt.error}`],
            ['status', attempt.status_code],
            ['duration', `${attempt.duration_ms} ms`],
            ['response', attempt.response],
          ]))
            out(line);
        },
        { secrets: 'optional' },
      );
    });
}
