/** What the console suites post: real provider callbacks, a registration, a refused request. */
import { fixture } from '../helpers/fixtures';
import { mailgunSigned } from '../helpers/sign';
import type { TestApp } from '../helpers/app';
import { adminPost, MAILGUN_KEY, postCallback } from './helpers';

export const ALIYUN_ID = '893412315000000000^0';
export const REFERENCE = 'order-ref-42';
export const EMAIL = 'bob@example.com';

function aliyunReport(over: Record<string, unknown>): string {
  return JSON.stringify([
    {
      phone_number: '13800138000',
      send_time: '2024-05-06 10:15:02',
      report_time: '2024-05-06 10:15:09',
      success: true,
      err_code: 'DELIVERED',
      err_msg: 'ok',
      sms_size: '1',
      biz_id: ALIYUN_ID,
      out_id: 'order-42',
      ...over,
    },
  ]);
}

export async function seed(app: TestApp): Promise<void> {
  const json = 'application/json';
  // Aliyun: 13800138000 delivered, 13900139000 failed (one biz_id: a 409 without recipient)
  expect((await postCallback(app, '/v1/callbacks/aliyun', fixture('aliyun', 'smsreport-batch').body, json)).status).toBe(200);
  // the same batch again (duplicate), then a later failure (lower rank): a timeline of three
  expect((await postCallback(app, '/v1/callbacks/aliyun', fixture('aliyun', 'smsreport-batch').body, json)).status).toBe(200);
  const late = aliyunReport({ report_time: '2024-05-06 10:20:00', success: false, err_code: 'MK:0009', err_msg: 'late failure' });
  expect((await postCallback(app, '/v1/callbacks/aliyun', late, json)).status).toBe(200);
  // Tencent reports the number as +86…
  expect((await postCallback(app, '/v1/callbacks/tencent', fixture('tencent', 'status-array').body, json)).status).toBe(200);
  // Mailgun: an e-mail address
  const mg = mailgunSigned(fixture('mailgun', 'failed-permanent').body, MAILGUN_KEY);
  expect((await postCallback(app, '/v1/callbacks/mailgun', mg, json)).status).toBe(200);
  // a registration's reference
  expect((await adminPost(app, '/v1/messages', { provider: 'aliyun', message_id: ALIYUN_ID, recipient: '13800138000', reference: REFERENCE })).status).toBe(201);
  // a refused request: the shop account wants ?token=
  expect((await postCallback(app, '/v1/callbacks/aliyun/shop', aliyunReport({ biz_id: 'shop-1^0', phone_number: '13700137000' }), json)).status).toBe(401);
}

export { aliyunReport };
