import { Option, type Command } from 'commander';
import { decodeCursor, MAX_PAGE } from '../../db/paging';
import { Conflict } from '../../errors';
import { getMessage, listMessages, stats, type messageView, type reportView } from '../../status/queries';
import { STATUSES } from '../../status/types';
import { withContext } from '../context';
import { isoTime, out, pageSize, printJson, printNextCursor, printTable, UsageError } from '../io';
import { formatFields, formatTable } from '../table';

type MessageView = ReturnType<typeof messageView>;
type ReportView = ReturnType<typeof reportView>;

const errorText = (e: { code: string; message: string | null } | null) => (e === null ? null : e.message ? `${e.code} ${e.message}` : e.code);

/** The message and its timeline (oldest first), as `dlr messages show` prints them. */
function printMessage(answer: { message: MessageView; history: ReportView[]; history_truncated?: boolean }): void {
  const m = answer.message;
  for (const line of formatFields([
    ['provider', `${m.provider} (account ${m.account}, ${m.channel})`],
    ['message_id', m.message_id],
    ['recipient', m.recipient],
    ['status', m.status === null ? null : `${m.status}${m.terminal ? ' (final)' : ''}, version ${m.version}`],
    ['error', errorText(m.error)],
    ['occurred_at', m.occurred_at],
    ['reference', m.reference],
    ['metadata', m.metadata],
    ['attributes', Object.keys(m.attributes).length > 0 ? m.attributes : null],
    ['first seen', m.created_at],
    ['last change', m.updated_at],
    ['stale since', m.stale_since],
  ]))
    out(line);
  out('');
  out(`timeline: ${answer.history.length} report(s)${answer.history_truncated ? ' (the newest only)' : ''}`);
  for (const line of formatTable(answer.history, [
    { header: 'RECEIVED', value: (r) => r.received_at },
    { header: 'OCCURRED', value: (r) => r.occurred_at },
    { header: 'REPORT', value: (r) => r.status ?? (r.action ? `${r.type.replace(/^message\./, '')}: ${r.action}` : r.type) },
    { header: 'ERROR', value: (r) => errorText(r.error) },
    { header: 'APPLIED', value: (r) => (r.changed ? 'yes' : `no (${r.reason ?? '?'})`) },
    { header: 'RAW ID', value: (r) => r.raw_id },
  ]))
    out(line);
}

const MESSAGE_COLUMNS = [
  { header: 'UPDATED', value: (m: MessageView) => m.updated_at },
  { header: 'PROVIDER', value: (m: MessageView) => `${m.provider}/${m.account}` },
  { header: 'MESSAGE ID', value: (m: MessageView) => m.message_id },
  { header: 'RECIPIENT', value: (m: MessageView) => m.recipient },
  { header: 'STATUS', value: (m: MessageView) => m.status },
  { header: 'V', value: (m: MessageView) => m.version, align: 'right' as const },
  { header: 'ERROR', value: (m: MessageView) => errorText(m.error) },
  { header: 'STALE', value: (m: MessageView) => (m.stale_since ? 'stale' : null) },
];

interface ListOptions {
  provider?: string;
  account?: string;
  status?: string;
  recipient?: string;
  stale?: boolean;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

interface StatsOptions {
  provider?: string;
  account?: string;
  channel?: string;
  since?: string;
  until?: string;
  json?: boolean;
}

export function messagesCommand(program: Command): void {
  const messages = program.command('messages').description('messages and their status, as the read API answers (GET /v1/messages)');

  messages
    .command('show <provider> <message_id>')
    .description('one message and its timeline (every report, oldest first, with whether it changed the status)')
    .option('--recipient <recipient>', 'the recipient, when the id covers several')
    .option('--account <name>', 'the account, when the id is in several')
    .option('--json', 'the answer of GET /v1/messages/:provider/:message_id')
    .action(async (provider: string, messageId: string, o: { recipient?: string; account?: string; json?: boolean }) => {
      await withContext(
        async (ctx) => {
          let answer;
          try {
            answer = await getMessage(ctx.dbh.db, { provider, messageId, account: o.account, recipient: o.recipient });
          } catch (e) {
            if (!(e instanceof Conflict)) throw e;
            const { recipients, accounts } = e.extra as { recipients: string[]; accounts: string[] };
            const lines = [`dlr messages show: ${provider} ${messageId} names ${recipients.length} recipient(s) in ${accounts.length} account(s):`];
            for (const r of recipients) lines.push(`  ${r}`);
            lines.push(`add --recipient${accounts.length > 1 ? ` (and --account, one of ${accounts.join(', ')})` : ''}, e.g. --recipient ${recipients[0]}`);
            throw new UsageError(lines.join('\n'));
          }
          if (o.json) printJson(answer);
          else printMessage(answer as Parameters<typeof printMessage>[0]);
        },
        { secrets: 'optional' },
      );
    });

  messages
    .command('list')
    .description('messages, newest change first (filtered on the time of their last change)')
    .option('--provider <name>', 'only this provider')
    .option('--account <name>', 'only this account')
    .addOption(new Option('--status <status>', 'only messages with this status').choices(STATUSES))
    .option('--recipient <recipient>', 'only this recipient (as stored, e.g. +8613800138000)')
    .option('--stale', 'only stale messages (no final report in time)')
    .option('--no-stale', 'only messages that are not stale')
    .option('--since <time>', 'last change at or after (ISO-8601)', isoTime)
    .option('--until <time>', 'last change before (ISO-8601)', isoTime)
    .option('--limit <n>', `how many (at most ${MAX_PAGE})`, pageSize(MAX_PAGE), 50)
    .option('--cursor <cursor>', 'the next page (printed under a full page)')
    .option('--json', 'the answer of GET /v1/messages: { items, next_cursor }')
    .action(async (o: ListOptions) => {
      await withContext(
        async (ctx) => {
          const page = await listMessages(ctx.dbh.db, {
            provider: o.provider,
            account: o.account,
            status: o.status,
            recipient: o.recipient,
            stale: o.stale === undefined ? undefined : String(o.stale),
            since: o.since,
            until: o.until,
            limit: o.limit,
            cursor: decodeCursor(o.cursor),
          });
          if (o.json) return printJson(page);
          printTable(page.items, MESSAGE_COLUMNS, 'no messages match');
          printNextCursor(page.next_cursor);
        },
        { secrets: 'optional' },
      );
    });

  program
    .command('stats')
    .description('messages first seen in a window: counts by status, delivery rate, stale count, top error codes (GET /v1/stats)')
    .option('--provider <name>', 'only this provider')
    .option('--account <name>', 'only this account')
    .addOption(new Option('--channel <channel>', 'only this channel').choices(['sms', 'email']))
    .option('--since <time>', 'first seen at or after (ISO-8601)', isoTime)
    .option('--until <time>', 'first seen before (ISO-8601)', isoTime)
    .option('--json', 'the answer of GET /v1/stats')
    .action(async (o: StatsOptions) => {
      await withContext(
        async (ctx) => {
          const s = await stats(ctx.dbh.db, { provider: o.provider, account: o.account, channel: o.channel, since: o.since, until: o.until });
          if (o.json) return printJson(s);
          const rate = s.delivery_rate === null ? 'n/a (no final status yet)' : `${(s.delivery_rate * 100).toFixed(1)} % (${s.delivered} of ${s.final} final)`;
          for (const line of formatFields([
            ['window', `${s.window.since ?? 'the beginning'} → ${s.window.until ?? 'now'}`],
            ['messages', s.total],
            ['delivery rate', rate],
            ['stale', s.stale],
          ]))
            out(line);
          const byStatus = Object.entries(s.by_status).sort((a, b) => b[1] - a[1]);
          if (byStatus.length > 0) out('');
          for (const line of byStatus.length === 0
            ? []
            : formatTable(byStatus, [
                { header: 'STATUS', value: ([k]) => k },
                { header: 'COUNT', value: ([, n]) => n, align: 'right' },
              ]))
            out(line);
          if (s.top_error_codes.length > 0) {
            out('');
            for (const line of formatTable(s.top_error_codes, [
              { header: 'PROVIDER', value: (e) => e.provider },
              { header: 'ERROR CODE', value: (e) => e.code },
              { header: 'COUNT', value: (e) => e.count, align: 'right' },
            ]))
              out(line);
          }
        },
        { secrets: 'optional' },
      );
    });
}
