import { Option, type Command } from 'commander';
import { DEFAULTS } from '../../config/config';
import { BadRequest } from '../../errors';
import {
  accountZones,
  dailyCsv,
  dailyReport,
  DIMENSIONS,
  MAX_REPORT_DAYS,
  parseBy,
  parseDay,
  parseZone,
  reportDays,
  type DailyRow,
  type Dimension,
} from '../../status/daily';
import { withContext } from '../context';
import { asOption, UsageError, write } from '../io';
import { formatTable, type Column } from '../table';

interface ReportOptions {
  since: string;
  until: string;
  by: Dimension[];
  tz?: string;
  provider?: string;
  account?: string;
  channel?: string;
  format: 'csv' | 'json' | 'table';
  json?: boolean;
}

/** The table's columns: those of the report's dimensions (status with its error code), its zone and the count. */
function tableColumns(by: readonly Dimension[]): Column<DailyRow>[] {
  const has = (d: Dimension) => by.includes(d);
  return [
    ...(has('day') ? [{ header: 'DAY', value: (r: DailyRow) => r.day }] : []),
    { header: 'ZONE', value: (r) => r.time_zone },
    ...(has('provider') ? [{ header: 'PROVIDER', value: (r: DailyRow) => r.provider }] : []),
    ...(has('account') ? [{ header: 'ACCOUNT', value: (r: DailyRow) => r.account }] : []),
    ...(has('status')
      ? [
          { header: 'STATUS', value: (r: DailyRow) => r.status },
          { header: 'ERROR', value: (r: DailyRow) => r.error_code },
        ]
      : []),
    { header: 'COUNT', value: (r) => r.count, align: 'right' },
  ];
}

export function reportCommand(program: Command): void {
  program
    .command('report')
    .description("message counts per local day, provider, account, status and error code, from the stats rollups: to reconcile a provider's bill")
    .requiredOption(
      '--since <date>',
      'the first local day, YYYY-MM-DD',
      asOption((v) => parseDay('--since', v)),
    )
    .requiredOption(
      '--until <date>',
      `the day after the last one (exclusive), YYYY-MM-DD; at most ${MAX_REPORT_DAYS} days after --since`,
      asOption((v) => parseDay('--until', v)),
    )
    .option(
      '--by <list>',
      `a comma list of ${DIMENSIONS.join(', ')} (status with its error code)`,
      asOption((v) => parseBy('--by', v)),
      [...DIMENSIONS],
    )
    .option(
      '--tz <zone>',
      "the IANA time zone of the days (default: each account's timeZone)",
      asOption((v) => parseZone('--tz', v)),
    )
    .option('--provider <name>', 'only this provider')
    .option('--account <name>', 'only this account')
    .addOption(new Option('--channel <channel>', 'only this channel').choices(['sms', 'email']))
    .addOption(
      new Option('--format <format>', 'csv (a header row, RFC 4180), json (the document GET /v1/reports/daily answers, one line) or table (aligned columns)')
        .choices(['csv', 'json', 'table'])
        .default('csv'),
    )
    .option('--json', 'the same as --format json')
    .action(async (o: ReportOptions) => {
      try {
        reportDays(o.since, o.until);
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        throw new UsageError(`dlr report: ${e.message}`);
      }
      await withContext(
        async (ctx) => {
          const report = await dailyReport(ctx.dbh.db, {
            since: o.since,
            until: o.until,
            by: o.by,
            zones: o.tz !== undefined ? { zone: o.tz } : { accounts: accountZones(ctx.config.providers), fallback: DEFAULTS.timeZone },
            provider: o.provider,
            account: o.account,
            channel: o.channel,
          });
          const format = o.json ? 'json' : o.format;
          if (format === 'json') return write(`${JSON.stringify(report)}\n`);
          if (format === 'csv') return write(dailyCsv(report));
          return write(`${formatTable(report.rows, tableColumns(report.by)).join('\n')}\n`);
        },
        { secrets: 'optional' },
      );
    });
}
