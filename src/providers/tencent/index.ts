/**
 * Tencent Cloud SMS — 短信下发状态通知 (providers.md §B; cloud.tencent.com/document/product/382/5807).
 *
 * Route:     POST /v1/callbacks/tencent[/:account]   (console: 事件回调配置 → 状态报告)
 * Signature: none. Protection is the account's `token` (?token=) and `allowIps`.
 * Body:      JSON array: user_receive_time, nationcode, mobile, report_status (SUCCESS|FAIL),
 *            errmsg (receipt code, e.g. DELIVRD), description, sid (the SendSms SerialNo).
 *            Also accepted, as the starting documents describe: {"callbackData": "<base64 of the
 *            same JSON, array or one object>"}; bad base64 or JSON inside is a 400.
 * Ack:       200 {"result":0,"errmsg":"OK"}.
 * Quirks:    times are local `yyyy-MM-dd HH:mm:ss` (Asia/Shanghai); recipient is +nationcode+mobile.
 */
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, StatusReport } from '../../status/types';
import { parseLocalTime } from '../../util/time';
import { bodyText, isObject, parseJson, reportObjects, stringField } from '../decode';
import type { AccountSettings, Provider } from '../types';
import type { RawCallback } from '../../raw/types';

const TIME_FORMAT = 'yyyy-MM-dd HH:mm:ss';
const ACK = JSON.stringify({ result: 0, errmsg: 'OK' });
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function unwrapCallbackData(value: unknown): unknown {
  if (!isObject(value) || !('callbackData' in value)) return value;
  const data = value.callbackData;
  if (typeof data !== 'string') throw new PayloadInvalid('"callbackData" must be a base64 string');
  const compact = data.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) throw new PayloadInvalid('"callbackData" is not valid base64');
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  return parseJson(decoded, 'decoded callbackData');
}

function toReport(item: Record<string, unknown>, i: number, account: AccountSettings, raw: RawCallback): StatusReport {
  const where = `report[${i}]`;
  const sid = stringField(item, 'sid', where, true);
  const mobile = stringField(item, 'mobile', where, true);
  const nation = stringField(item, 'nationcode', where);
  const reportStatus = stringField(item, 'report_status', where, true).toUpperCase();
  if (reportStatus !== 'SUCCESS' && reportStatus !== 'FAIL') {
    throw new PayloadInvalid(`${where}: "report_status" must be SUCCESS or FAIL, got "${reportStatus}"`);
  }
  const errmsg = stringField(item, 'errmsg', where);
  const description = stringField(item, 'description', where);
  const time = stringField(item, 'user_receive_time', where);
  let occurredAt = raw.receivedAt;
  if (time !== undefined) {
    const parsed = parseLocalTime(time, TIME_FORMAT, account.timeZone);
    if (!parsed) throw new PayloadInvalid(`${where}: "user_receive_time" is not ${TIME_FORMAT}: "${time}"`);
    occurredAt = parsed;
  }
  const delivered = reportStatus === 'SUCCESS';
  const recipient = nation && !mobile.startsWith('+') ? `+${nation}${mobile}` : mobile;
  return {
    type: 'message.status',
    messageId: sid,
    recipient,
    status: delivered ? 'delivered' : 'failed',
    error: delivered ? null : { code: errmsg ?? 'FAIL', message: description ?? null },
    occurredAt,
    attributes: errmsg !== undefined ? { errmsg } : {},
  };
}

export const tencent: Provider = {
  name: 'tencent',
  channel: 'sms',
  unsigned: true,
  parse(raw, account): ProviderReport[] {
    const items = reportObjects(unwrapCallbackData(parseJson(bodyText(raw))), 'body');
    return items.map((item, i) => toReport(item, i, account, raw));
  },
  ack: () => ({ status: 200, contentType: 'application/json; charset=utf-8', body: ACK }),
  statuses: [
    { code: 'SUCCESS', status: 'delivered' },
    { code: 'FAIL', status: 'failed' },
  ],
  about: {
    description:
      'Tencent Cloud SMS delivery status callbacks (短信下发状态通知): a JSON array of reports (or {"callbackData": base64 of it}); local yyyy-MM-dd HH:mm:ss times; the recipient is +nationcode+mobile; errmsg (DELIVRD, UNDELIV…) is kept as the error code.',
    signature: { scheme: 'none', summary: 'unsigned: protect the account with token (?token= in the URL) and/or allowIps' },
    settings: [],
    sources: ['https://cloud.tencent.com/document/product/382/5807', 'https://www.tencentcloud.com/document/api/382/43547'],
  },
};
