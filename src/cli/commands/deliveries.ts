import { Option, type Command } from 'commander';
import { decodeCursor, MAX_PAGE } from '../../db/paging';
import { DELIVERY_STATES, getDelivery, listDeliveries, retryDelivery } from '../../outbox/deliveries';
import { withContext } from '../context';
import { out, pageSize, printJson, printNextCursor, printTable } from '../io';

export function deliveriesCommand(program: Command): void {
  const deliveries = program.command('deliveries').description("a subscription's deliveries (one per event) and their attempts");

  deliveries
    .command('list')
    .description('the deliveries of a subscription, newest first')
    .requiredOption('--subscription <id>', 'the subscription (dlr subscriptions list)')
    .addOption(new Option('--state <state>', 'only deliveries in this state').choices(DELIVERY_STATES))
    .option('--limit <n>', `how many (at most ${MAX_PAGE})`, pageSize(MAX_PAGE), 50)
    .option('--cursor <cursor>', 'the next page (printed under a full page)')
    .option('--json', 'the answer of GET /v1/subscriptions/:id/deliveries: { items, next_cursor }')
    .action(async (o: { subscription: string; state?: string; limit: number; cursor?: string; json?: boolean }) => {
      await withContext(
        async (ctx) => {
          const page = await listDeliveries(ctx.dbh.db, o.subscription, { state: o.state, limit: o.limit, cursor: decodeCursor(o.cursor) });
          if (o.json) return printJson(page);
          printTable(
            page.items,
            [
              { header: 'ID', value: (d) => d.id },
              { header: 'EVENT', value: (d) => d.event_id },
              { header: 'STATE', value: (d) => d.state },
              { header: 'ATTEMPTS', value: (d) => d.attempts, align: 'right' },
              { header: 'LAST ATTEMPT', value: (d) => d.last_attempt_at },
              { header: 'LAST STATUS', value: (d) => d.last_status },
              { header: 'NEXT ATTEMPT', value: (d) => d.next_attempt_at },
              { header: 'LAST ERROR', value: (d) => d.last_error },
            ],
            'no deliveries match',
          );
          printNextCursor(page.next_cursor);
        },
        { secrets: 'optional' },
      );
    });

  deliveries
    .command('retry <id>')
    .description('queue one more attempt of a delivery now (also one that succeeded or is dead); a running worker makes it')
    .option('--dry-run', 'say what would be queued; change nothing')
    .option('--json', 'the answer of POST /v1/deliveries/:id/retry')
    .action(async (id: string, o: { dryRun?: boolean; json?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (o.dryRun) {
            const { event: _event, attempt_log: _log, ...d } = await getDelivery(ctx.dbh.db, id);
            if (o.json) return printJson({ dry_run: true, delivery: d });
            out(
              `dry run: would queue attempt ${d.attempts + 1} of ${id} (${d.state}, ${d.attempts} attempt(s) so far) to ${d.subscription_id}; nothing was changed`,
            );
            return;
          }
          const d = await retryDelivery(ctx.dbh.db, id, new Date());
          if (o.json) return printJson(d);
          out(`queued attempt ${d.attempts + 1} of ${id} to ${d.subscription_id}: a running worker (dlr serve or dlr worker) makes it`);
        },
        { secrets: 'optional' },
      );
    });
}
