/**
 * Cloopen / Ronglian (容联云通讯) — SMS status report push, action SMSArrived (providers.md §C).
 *
 * Route:     POST /v1/callbacks/ronglian[/:account]  (the app's 状态报告 URL in the Cloopen console)
 * Signature: none (the `sig` scheme signs requests *to* Cloopen, not its pushes). Protection is the
 *            account's `token` (?token=) and `allowIps`.
 * Body:      one report per request, three shapes:
 *            - JSON {"Request":{action:"SMSArrived", content (= smsMessageSid), fromNum (the
 *              recipient), status ("0" delivered), deliverCode, recvTime, dateSent, reqId, smsCount}}
 *            - the same as XML <Request>…</Request>
 *            - a form post (as the starting documents describe): respCode ("000000" delivered,
 *              else the failure code), mobile, reportTime, smsMessageSid or msgId
 * Ack:       200 {"statusCode":"000000"} for JSON and form requests,
 *            <Response><statuscode>000000</statuscode></Response> for XML.
 * Quirks:    times are local `yyyyMMddHHmmss` (also `yyyy-MM-dd HH:mm:ss` accepted), Asia/Shanghai.
 *            Low-confidence format (official doc not found): fixtures follow public code.
 */
import { PayloadInvalid } from '../../errors';
import type { ProviderReport, StatusReport } from '../../status/types';
import { parseLocalTimeAny } from '../../util/time';
import { bodyText, contentType, isObject, parseForm, parseJson, parseXml, stringField } from '../decode';
import type { AccountSettings, Provider } from '../types';
import type { RawCallback } from '../../raw/types';

const TIME_FORMATS = ['yyyyMMddHHmmss', 'yyyy-MM-dd HH:mm:ss'] as const;
const SUCCESS_CODE = '000000';

type Format = 'json' | 'xml' | 'form';

function formatOf(raw: RawCallback): Format {
  const type = contentType(raw);
  if (type.includes('xml')) return 'xml';
  if (type.includes('x-www-form-urlencoded')) return 'form';
  if (type.includes('json')) return 'json';
  const first = raw.body.subarray(0, 64).toString('latin1').trimStart()[0];
  return first === '<' ? 'xml' : first === '{' ? 'json' : 'form';
}

function time(value: string | undefined, field: string, account: AccountSettings, raw: RawCallback): Date {
  if (value === undefined) return raw.receivedAt;
  const parsed = parseLocalTimeAny(value, TIME_FORMATS, account.timeZone);
  if (!parsed) throw new PayloadInvalid(`"${field}" is not yyyyMMddHHmmss: "${value}"`);
  return parsed;
}

function fromSmsArrived(request: Record<string, unknown>, account: AccountSettings, raw: RawCallback): StatusReport {
  const where = 'Request';
  const action = stringField(request, 'action', where, true);
  if (action !== 'SMSArrived') throw new PayloadInvalid(`Request.action "${action}" is not a status report (SMSArrived)`);
  const messageId = stringField(request, 'content', where) ?? stringField(request, 'smsMessageSid', where, true);
  const recipient = stringField(request, 'fromNum', where, true);
  const status = stringField(request, 'status', where, true);
  const deliverCode = stringField(request, 'deliverCode', where);
  const delivered = status === '0';
  const attributes: Record<string, unknown> = {};
  for (const k of ['reqId', 'deliverCode', 'smsCount']) {
    const v = stringField(request, k, where);
    if (v !== undefined) attributes[k] = v;
  }
  return {
    type: 'message.status',
    messageId,
    recipient,
    status: delivered ? 'delivered' : 'failed',
    error: delivered ? null : { code: deliverCode ?? status, message: null },
    occurredAt: time(stringField(request, 'recvTime', where), 'recvTime', account, raw),
    attributes,
  };
}

function fromForm(form: Record<string, string>, account: AccountSettings, raw: RawCallback): StatusReport {
  const where = 'form';
  const respCode = stringField(form, 'respCode', where, true);
  const messageId = stringField(form, 'smsMessageSid', where) ?? stringField(form, 'msgId', where, true);
  const recipient = stringField(form, 'mobile', where, true);
  const delivered = respCode === SUCCESS_CODE;
  const attributes: Record<string, unknown> = {};
  for (const k of ['reqId', 'respDesc']) if (form[k]) attributes[k] = form[k];
  return {
    type: 'message.status',
    messageId,
    recipient,
    status: delivered ? 'delivered' : 'failed',
    error: delivered ? null : { code: respCode, message: form.respDesc || form.errMsg || null },
    occurredAt: time(stringField(form, 'reportTime', where), 'reportTime', account, raw),
    attributes,
  };
}

export const ronglian: Provider = {
  name: 'ronglian',
  channel: 'sms',
  unsigned: true,
  parse(raw, account): ProviderReport[] {
    const format = formatOf(raw);
    if (format === 'form') return [fromForm(parseForm(raw), account, raw)];
    const text = bodyText(raw);
    const doc = format === 'xml' ? parseXml(text) : parseJson(text);
    const request = isObject(doc) ? doc.Request : undefined;
    if (!isObject(request)) throw new PayloadInvalid('expected a "Request" object (SMSArrived report)');
    return [fromSmsArrived(request, account, raw)];
  },
  ack(raw) {
    if (formatOf(raw) === 'xml') {
      return {
        status: 200,
        contentType: 'application/xml; charset=utf-8',
        body: `<?xml version="1.0" encoding="UTF-8"?><Response><statuscode>${SUCCESS_CODE}</statuscode></Response>`,
      };
    }
    return { status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ statusCode: SUCCESS_CODE }) };
  },
  statuses: [
    { code: 'status "0" / respCode "000000"', status: 'delivered' },
    { code: 'any other status / respCode', status: 'failed' },
  ],
  about: {
    description:
      'Cloopen / Ronglian (容联云通讯) SMS status reports (SMSArrived), one per request as JSON {"Request": {…}}, XML <Request>…</Request> (acknowledged in XML) or a form post with respCode; local yyyyMMddHHmmss times. Low-confidence format: the official page was not found, fixtures follow public code.',
    signature: { scheme: 'none', summary: 'unsigned: protect the account with token (?token= in the URL) and/or allowIps' },
    settings: [],
    sources: ['../shared/providers.md §C', 'https://github.com/cloopen/java-sms-sdk'],
  },
};
