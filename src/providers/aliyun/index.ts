/**
 * Alibaba Cloud SMS — SmsReport, HTTP batch push (providers.md §A; help.aliyun.com …/smsreport-2).
 *
 * Route:     POST /v1/callbacks/aliyun[/:account]   (paste it as the "上行/回执 HTTP 推送" URL)
 * Signature: none. Protection is the account's `token` (?token=) and `allowIps`.
 * Body:      JSON array of reports: phone_number, send_time, report_time, success, err_code,
 *            err_msg, sms_size, biz_id, out_id. Times are local `yyyy-MM-dd HH:mm:ss` (Asia/Shanghai).
 * Ack:       200 {"code":0,"msg":"接收成功"} — Aliyun only checks that `code` is a number.
 * Quirks:    `success` decides; without it (as the starting documents describe) err_code
 *            DELIVRD/DELIVERED means delivered and `receive_time` is the time. One biz_id
 *            covers every number of a SendBatchSms, so the recipient is part of the key.
 * Intl site: the international site's SMS webhook (alibabacloud.com/help/en/sms/developer-reference/
 *            sms-webhook-1, providers.md §A S-A3) posts the same kind of JSON array with PascalCase
 *            fields: To (country code and number, no "+"), Status ("1" sent to the handset, "2"
 *            failed, "6" expired), MessageId, SmsSize, TaskId, SendDate and ReceiveDate as RFC 2822
 *            with their offset ("Thu, 25 Nov 2021 10:27:33 +0800"), ErrorCode ("success" when it
 *            worked) and ErrorDescription. A report with `MessageId` is read that way; the ack is the same.
 */
import { DateTime } from 'luxon';
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, Status, StatusReport } from '../../status/types';
import { parseLocalTime } from '../../util/time';
import { bodyText, parseJson, reportObjects, stringField } from '../decode';
import type { AccountSettings, Provider } from '../types';
import type { RawCallback } from '../../raw/types';

const TIME_FORMAT = 'yyyy-MM-dd HH:mm:ss';
const DELIVERED_CODES = new Set(['DELIVRD', 'DELIVERED']);
const ACK = JSON.stringify({ code: 0, msg: '接收成功' });

/**
 * The international site's `Status` (sms-webhook-1). "3" is the older MNS queue variant's "Delivered"
 * (alibabacloud.com/help/doc-detail/106598.htm: 1 submitted, 2 failed, 3 delivered) where "1" means
 * submitted; the webhook's "1" is the carrier's receipt of a sent message (ErrorCode "success"), so
 * both count as delivered here. Any other code is recorded without changing the status.
 */
export const INTL_STATUSES: Readonly<Record<string, Status>> = { '1': 'delivered', '3': 'delivered', '2': 'failed', '6': 'expired' };

function rfc2822(text: string, where: string, field: string): Date {
  const dt = DateTime.fromRFC2822(text.trim());
  if (!dt.isValid) throw new PayloadInvalid(`${where}: "${field}" is not an RFC 2822 date ("Thu, 25 Nov 2021 10:27:33 +0800"): "${text.slice(0, 64)}"`);
  return dt.toJSDate();
}

/** A report of the international site's webhook (PascalCase fields). */
function toIntlReport(item: Record<string, unknown>, i: number, raw: RawCallback): StatusReport {
  const where = `report[${i}]`;
  const to = stringField(item, 'To', where, true);
  const code = stringField(item, 'Status', where, true);
  const status = Object.hasOwn(INTL_STATUSES, code) ? INTL_STATUSES[code] : null;
  const errorCode = stringField(item, 'ErrorCode', where);
  const errorText = stringField(item, 'ErrorDescription', where);
  const timeField = ['ReceiveDate', 'SendDate'].find((k) => item[k] !== undefined);
  const occurredAt = timeField ? rfc2822(stringField(item, timeField, where, true), where, timeField) : raw.receivedAt;
  const attributes: Record<string, unknown> = { status_code: code };
  for (const [k, attr] of [
    ['SmsSize', 'sms_size'],
    ['TaskId', 'task_id'],
    ['ErrorCode', 'error_code'],
  ] as const) {
    const v = stringField(item, k, where);
    if (v !== undefined) attributes[attr] = v;
  }
  return {
    type: 'message.status',
    messageId: stringField(item, 'MessageId', where, true),
    recipient: /^\d+$/.test(to) ? `+${to}` : to,
    status,
    error: status === 'delivered' ? null : { code: errorCode ?? code, message: errorText ?? null },
    occurredAt,
    attributes,
  };
}

function toReport(item: Record<string, unknown>, i: number, account: AccountSettings, raw: RawCallback): StatusReport {
  const where = `report[${i}]`;
  const phone = stringField(item, 'phone_number', where, true);
  const bizId = stringField(item, 'biz_id', where, true);
  const errCode = stringField(item, 'err_code', where);
  const errMsg = stringField(item, 'err_msg', where);
  const success = item.success;
  if (success !== undefined && typeof success !== 'boolean') throw new PayloadInvalid(`${where}: "success" must be a boolean`);
  const delivered = success ?? (errCode !== undefined && DELIVERED_CODES.has(errCode.toUpperCase()));

  const timeField = ['report_time', 'receive_time', 'send_time'].find((k) => item[k] !== undefined);
  let occurredAt = raw.receivedAt;
  if (timeField) {
    const text = stringField(item, timeField, where, true);
    const parsed = parseLocalTime(text, TIME_FORMAT, account.timeZone);
    if (!parsed) throw new PayloadInvalid(`${where}: "${timeField}" is not ${TIME_FORMAT}: "${text}"`);
    occurredAt = parsed;
  }
  const attributes: Record<string, unknown> = {};
  for (const k of ['out_id', 'sms_size', 'err_code']) {
    const v = stringField(item, k, where);
    if (v !== undefined) attributes[k] = v;
  }
  return {
    type: 'message.status',
    messageId: bizId,
    recipient: phone,
    status: delivered ? 'delivered' : 'failed',
    error: delivered ? null : { code: errCode ?? 'UNKNOWN', message: errMsg ?? null },
    occurredAt,
    attributes,
  };
}

export const aliyun: Provider = {
  name: 'aliyun',
  channel: 'sms',
  unsigned: true,
  parse(raw, account): ProviderReport[] {
    const items = reportObjects(parseJson(bodyText(raw)), 'body');
    return items.map((item, i) => (item.MessageId !== undefined && item.biz_id === undefined ? toIntlReport(item, i, raw) : toReport(item, i, account, raw)));
  },
  ack: () => ({ status: 200, contentType: 'application/json; charset=utf-8', body: ACK }),
  statuses: [
    { code: 'success true', status: 'delivered' },
    { code: 'success false', status: 'failed' },
    { code: 'no success: err_code DELIVRD or DELIVERED', status: 'delivered' },
    { code: 'no success: any other err_code', status: 'failed' },
    ...Object.entries(INTL_STATUSES).map(([code, status]) => ({ code: `Status ${code} (international site)`, status })),
    { code: 'Status, any other (international site)', status: 'keep' as const },
  ],
  about: {
    description:
      "Alibaba Cloud SMS delivery receipts (SmsReport, HTTP batch push): a JSON array of reports, local yyyy-MM-dd HH:mm:ss times; also the international site's SMS webhook (To, Status, MessageId, RFC 2822 dates). One biz_id covers every number of a SendBatchSms.",
    signature: { scheme: 'none', summary: 'unsigned: protect the account with token (?token= in the URL) and/or allowIps' },
    settings: [],
    sources: ['https://help.aliyun.com/zh/sms/developer-reference/smsreport-2', 'https://www.alibabacloud.com/help/en/sms/developer-reference/sms-webhook-1'],
  },
};
