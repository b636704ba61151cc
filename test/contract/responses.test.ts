import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { checkResponse, contractViolation, watchContract } from '../helpers/openapi';

/**
 * The check every integration test's answers go through (test/helpers/openapi.ts, hooked into
 * startTestApp): it accepts what the document allows and reports what it does not.
 */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('answers checked against the OpenAPI document', () => {
  it('accepts a documented answer and names what is wrong in another', () => {
    const ok = {
      method: 'GET',
      url: '/v1/whoami?x=1',
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: json({ name: 'admin', scopes: ['read'] }),
    };
    expect(contractViolation(ok)).toBeNull();
    expect(contractViolation({ ...ok, body: json({ name: 'admin', scopes: ['root'] }) })).toMatch(
      /GET \/v1\/whoami → 200: .*scopes\/0 must be equal to one of the allowed values/,
    );
    expect(contractViolation({ ...ok, status: 418 })).toMatch(/documents no 418/);
    expect(contractViolation({ ...ok, contentType: 'text/html' })).toMatch(/content type text\/html/);
    expect(contractViolation({ ...ok, status: 401, body: json({ detail: 'no error code' }) })).toMatch(/must have required property 'error'/);
    // parameters match one segment; the console's {path} spans several
    expect(contractViolation({ ...ok, url: '/v1/messages/aliyun/1%5E2', body: json({ error: 'x' }), status: 409 })).toMatch(/required property 'recipients'/);
    expect(
      contractViolation({ method: 'GET', url: '/console/messages/a/b', status: 200, contentType: 'text/html', body: Buffer.from('<!doctype html>') }),
    ).toBeNull();
  });

  it('leaves a 404 of a path the document does not describe alone, and reports any other answer there', () => {
    const answer = { method: 'GET', url: '/v1/nothing-here', status: 404, contentType: 'application/json', body: json({ error: 'not_found' }) };
    expect(contractViolation(answer)).toBeNull();
    expect(contractViolation({ ...answer, status: 200 })).toMatch(/describes no such operation/);
  });

  it('records what a server answers, however it writes it', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"status":');
        res.end('"sick"}');
      } else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'ready', database: 'sqlite' }));
      }
    });
    const watch = watchContract(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await request(url).get('/healthz').expect(200);
      await request(url).get('/readyz').expect(200);
    } finally {
      watch.stop();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(watch.violations).toEqual([expect.stringMatching(/^GET \/healthz → 200: .*status must be equal to constant/)]);
  });

  describe('on the real server', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp(seedConfig());
    });
    afterAll(() => app.close());

    it('checks a supertest answer, and the test app has checked every answer so far', async () => {
      checkResponse(await request(app.url).get('/v1/whoami').set(admin).expect(200));
      checkResponse(await request(app.url).get('/v1/whoami').expect(401));
      checkResponse(await request(app.url).get('/v1/messages?status=lost').set(admin).expect(400));
      checkResponse(await request(app.url).get('/readyz').expect(200));
      const res = await request(app.url).get('/v1/stats').set(admin).expect(200);
      expect(() => checkResponse({ ...res, body: undefined, text: JSON.stringify({ ...res.body, total: 'many' }) })).toThrow(/total must be integer/);
      expect(app.contractViolations).toEqual([]);
    });
  });
});
