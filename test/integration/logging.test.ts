import request from 'supertest';
import { fixture } from '../helpers/fixtures';
import { ADMIN_TOKEN, startTestApp } from '../helpers/app';

describe('logs', () => {
  it('are JSON lines with a request id, with phone numbers, e-mail addresses and secrets masked', async () => {
    const app = await startTestApp({ providers: { aliyun: { accounts: { default: { token: 'url-secret-token' } } } } }, { LOG_LEVEL: 'debug' });
    const fx = fixture('aliyun', 'smsreport-batch');
    await request(app.url).post('/v1/callbacks/aliyun?token=url-secret-token').set('content-type', 'application/json').send(fx.body.toString()).expect(200);
    await request(app.url)
      .post('/v1/callbacks/aliyun?token=url-secret-token')
      .set('content-type', 'application/json')
      .send('[{"phone_number":13800138000}]')
      .expect(400);
    await request(app.url).get('/v1/messages?recipient=%2B8613800138000').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    await request(app.url).get('/v1/raw?q=alice@example.com').set('authorization', `Bearer ${ADMIN_TOKEN}`).expect(200);
    await request(app.url).get('/v1/raw/nope-alice@example.com').set('authorization', 'Bearer wrong-token-value').expect(401);
    await app.close();

    const text = app.logs.join('\n');
    const lines = app.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'callback')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'callback refused')).toHaveLength(1);
    // One line per callback request, with the request's fields and the callback's.
    const callbackLines = lines.filter((l) => String(l.url).startsWith('/v1/callbacks'));
    expect(callbackLines.map((l) => [l.msg, l.status, l.verdict])).toEqual([
      ['callback', 200, 'accepted'],
      ['callback refused', 400, 'payload_invalid'],
    ]);
    expect(callbackLines.every((l) => String(l.req_id).startsWith('req_') && String(l.raw_id).startsWith('raw_'))).toBe(true);
    // An API request's line names the token (never its value).
    expect(lines.find((l) => String(l.url).startsWith('/v1/messages'))).toMatchObject({ msg: 'request', status: 200, token_name: 'admin (DLR_ADMIN_TOKEN)' });
    for (const l of lines.filter((l) => l.msg === 'request')) expect(l.req_id).toMatch(/^req_/);
    expect(text).not.toMatch(/13800138000|13900139000/);
    expect(text).not.toMatch(/alice@example\.com/);
    // a search term (`?q=`: a number or an address support typed, in any spacing) is never logged
    expect(lines.find((l) => String(l.url).startsWith('/v1/raw?'))?.url).toBe('/v1/raw?q=[redacted]');
    // an address elsewhere in a URL is masked
    expect(text).toMatch(/n\*\*\*@example\.com/);
    expect(text).not.toContain('url-secret-token');
    expect(text).not.toContain(ADMIN_TOKEN);
    expect(text).not.toContain('wrong-token-value');
  });
});
