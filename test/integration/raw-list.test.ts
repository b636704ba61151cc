import { createHash, randomBytes } from 'node:crypto';
import iconv from 'iconv-lite';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { downloadBody, postBytes } from '../helpers/callbacks';
import { rawCallback } from '../helpers/raw';
import { insertRaw, rowOf } from '../../src/raw/store';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

const MiB = 1024 * 1024;
/** What the list shows of a body (src/raw/view.ts RAW_PREVIEW_BYTES). */
const PREVIEW = 1024;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

type Kind = 'utf8' | 'binary' | 'gbk' | 'html';
interface Sent {
  kind: Kind;
  contentType: string;
  body: Buffer;
}

/**
 * Bodies just under the default 1 MiB limit that aliyun refuses cheaply (not JSON, or not UTF-8):
 * each is stored whole. Each has its own size, so a list item is found by its body_size; the
 * prefixes put the preview's cut in the middle of a multi-byte character.
 */
function bigBody(i: number): Sent {
  const size = MiB - 64 - i;
  const kind = (['utf8', 'binary', 'gbk', 'html'] as const)[i % 4];
  const fill = (head: Buffer, unit: Buffer) => {
    const parts = [head];
    let n = head.length;
    while (n < size) {
      parts.push(unit);
      n += unit.length;
    }
    return Buffer.concat(parts).subarray(0, size);
  };
  switch (kind) {
    case 'utf8':
      return { kind, contentType: 'application/json', body: fill(Buffer.from(`#${i}${'x'.repeat(i % 3)} `), Buffer.from('用户不在服务区。')) };
    case 'binary':
      return { kind, contentType: 'application/json', body: fill(Buffer.from([0xff, 0xfe, i]), randomBytes(4096)) };
    case 'gbk':
      return { kind, contentType: 'application/json; charset=gbk', body: fill(Buffer.from(`#${i} `), iconv.encode('状态报告', 'gbk')) };
    case 'html':
      return { kind, contentType: 'text/html; charset=utf-8', body: fill(Buffer.from(`<html><script>alert(${i})</script>`), Buffer.from('<p>hi</p>')) };
  }
}

interface ListItem {
  id: string;
  body_size: number;
  detail: string | null;
  body: { encoding: 'text' | 'base64'; content: string; truncated: boolean };
}

describe('the raw-log list answers a bounded preview of each body; the whole body has its own route', () => {
  let app: TestApp;
  const sent: Sent[] = [];
  beforeAll(async () => {
    app = await startTestApp(seedConfig(), { DLR_WORKER: 'off' });
    for (let i = 0; i < 50; i += 1) {
      const s = bigBody(i);
      sent.push(s);
      await postBytes(app, '/v1/callbacks/aliyun', s.body, { 'content-type': s.contentType }).expect(400);
    }
  });
  afterAll(() => app.close());

  const sizeOf = (items: ListItem[], size: number) => items.find((r) => r.body_size === size)!;

  it('lists 50 requests of 1 MiB in well under 200 KB: body_size and a truncated preview each, not the bodies', async () => {
    const res = await request(app.url).get('/v1/raw?limit=500').set(admin).expect(200);
    expect(Buffer.byteLength(res.text)).toBeLessThan(200_000);
    const items = res.body.items as ListItem[];
    expect(items).toHaveLength(50);
    expect(res.body.next_cursor).toBeNull();
    for (const s of sent) {
      const item = sizeOf(items, s.body.length);
      expect(item).toBeDefined();
      expect(item.body.truncated).toBe(true);
      const head = s.body.subarray(0, PREVIEW);
      if (s.kind === 'binary') {
        expect(item.body).toEqual({ encoding: 'base64', content: head.toString('base64'), truncated: true });
        continue;
      }
      // text in the declared charset, cut before a character the first 1 KiB holds only part of
      expect(item.body.encoding).toBe('text');
      const whole = s.kind === 'gbk' ? iconv.decode(s.body, 'gbk') : s.body.toString('utf8');
      expect(whole.startsWith(item.body.content)).toBe(true);
      expect(item.body.content).not.toContain('\ufffd');
      const bytes = s.kind === 'gbk' ? iconv.encode(item.body.content, 'gbk') : Buffer.from(item.body.content, 'utf8');
      expect(bytes.length).toBeLessThanOrEqual(PREVIEW);
      expect(bytes.length).toBeGreaterThan(PREVIEW - 4);
    }
  });

  it('streams the exact stored bytes from /v1/raw/:id/body, as an attachment with the original type', async () => {
    const items = (await request(app.url).get('/v1/raw?limit=500').set(admin).expect(200)).body.items as ListItem[];
    for (const s of sent.slice(0, 4)) {
      const { id } = sizeOf(items, s.body.length);
      const res = await downloadBody(app, id);
      const got = res.body as Buffer;
      expect({ kind: s.kind, size: got.length, sha256: sha256(got) }).toEqual({ kind: s.kind, size: s.body.length, sha256: sha256(s.body) });
      expect(res.headers['content-type']).toBe(s.contentType);
      expect(res.headers['content-length']).toBe(String(s.body.length));
      expect(res.headers['content-disposition']).toBe(`attachment; filename="${id}.body"`);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/sandbox/);
    }
  });

  it('keeps the whole body in GET /v1/raw/:id (one row)', async () => {
    const items = (await request(app.url).get('/v1/raw?limit=500').set(admin).expect(200)).body.items as ListItem[];
    const s = sent[0];
    const one = await request(app.url)
      .get(`/v1/raw/${sizeOf(items, s.body.length).id}`)
      .set(admin)
      .expect(200);
    expect(one.body.body).toEqual({ encoding: 'text', content: s.body.toString('utf8') });
    expect(one.body.body_size).toBe(s.body.length);
  });

  it('marks a body of exactly 1 KiB whole and one byte more truncated; an empty body is whole', async () => {
    const exact = Buffer.from('e'.repeat(PREVIEW));
    const over = Buffer.from(`${'o'.repeat(PREVIEW)}!`);
    for (const b of [Buffer.alloc(0), exact, over]) await postBytes(app, '/v1/callbacks/aliyun', b, { 'content-type': 'application/json' }).expect(400);
    const items = (await request(app.url).get('/v1/raw?limit=3').set(admin).expect(200)).body.items as ListItem[];
    expect(items.map((r) => [r.body_size, r.body])).toEqual([
      [PREVIEW + 1, { encoding: 'text', content: 'o'.repeat(PREVIEW), truncated: true }],
      [PREVIEW, { encoding: 'text', content: exact.toString(), truncated: false }],
      [0, { encoding: 'text', content: '', truncated: false }],
    ]);
    const empty = await request(app.url).get(`/v1/raw/${items[2].id}/body`).set(admin).expect(200);
    expect(empty.headers['content-length']).toBe('0');
  });

  it('cuts a long verdict detail in the list (rows stored before details were cut) and keeps it whole in GET /v1/raw/:id', async () => {
    const detail = `report[0]: "report_time" is not yyyy-MM-dd HH:mm:ss: "${'t'.repeat(20_000)}"`;
    await insertRaw(app.running.ctx.dbh.db, rowOf(rawCallback('aliyun', '[]', 'application/json', { receivedAt: new Date() }), 'payload_invalid', detail));
    const [item] = (await request(app.url).get('/v1/raw?limit=1').set(admin).expect(200)).body.items as ListItem[];
    expect(item.detail).toBe(`${detail.slice(0, 1024)}…`);
    const one = await request(app.url).get(`/v1/raw/${item.id}`).set(admin).expect(200);
    expect(one.body.detail).toBe(detail);
  });

  it('answers 404 for the body of an unknown request and 401 without a token', async () => {
    const missing = await request(app.url).get('/v1/raw/raw_01JD0000000000000000000000/body').set(admin).expect(404);
    expect(missing.body).toMatchObject({ error: 'not_found', detail: expect.stringContaining('"raw_01JD0000000000000000000000"') });
    await request(app.url).get('/v1/raw/raw_01JD0000000000000000000000/body').expect(401);
  });
});

describe('GET /v1/raw/:id/body over a raised body limit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, { server: { bodyLimitBytes: 4 * MiB } }), { DLR_WORKER: 'off' });
  });
  afterAll(() => app.close());

  it('streams a body of several read chunks (1 MiB each) byte for byte', async () => {
    const body = randomBytes(3 * MiB + 12_345);
    await postBytes(app, '/v1/callbacks/aliyun', body, { 'content-type': 'application/octet-stream' }).expect(400);
    const [item] = (await request(app.url).get('/v1/raw?limit=1').set(admin).expect(200)).body.items as ListItem[];
    expect(item.body_size).toBe(body.length);
    expect(item.body).toEqual({ encoding: 'base64', content: body.subarray(0, PREVIEW).toString('base64'), truncated: true });
    const res = await downloadBody(app, item.id);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(sha256(res.body as Buffer)).toBe(sha256(body));
  });
});
