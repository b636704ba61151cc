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
 */
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, StatusReport } from '../../status/types';
import { parseLocalTime } from '../../util/time';
import { bodyText, parseJson, reportObjects, stringField } from '../decode';
import type { AccountSettings, Provider } from '../types';
import type { RawCallback } from '../../raw/types';

const TIME_FORMAT = 'yyyy-MM-dd HH:mm:ss';
const DELIVERED_CODES = new Set(['DELIVRD', 'DELIVERED']);
const ACK = JSON.stringify({ code: 0, msg: '接收成功' });

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
    return items.map((item, i) => toReport(item, i, account, raw));
  },
  ack: () => ({ status: 200, contentType: 'application/json; charset=utf-8', body: ACK }),
};
