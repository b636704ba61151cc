import request from 'supertest';
import { ADMIN_TOKEN, type TestApp } from './app';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** POSTs the bytes as they are: superagent would JSON-encode a Buffer sent with a JSON content type. */
export function postBytes(app: TestApp, path: string, body: Buffer | string, headers: Record<string, string>) {
  return request(app.url)
    .post(path)
    .set(headers)
    .serialize((b: unknown) => b as string)
    .send(Buffer.isBuffer(body) ? body : Buffer.from(body));
}

/** GET /v1/raw/:id/body as bytes, whatever its content type (200 expected). */
export function downloadBody(app: TestApp, id: string) {
  return request(app.url)
    .get(`/v1/raw/${id}/body`)
    .set(admin)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    })
    .expect(200);
}

/** The provider's most recent raw request, with its verdict and events. */
export async function lastRaw(app: TestApp, provider: string) {
  const res = await request(app.url).get(`/v1/raw?provider=${provider}&limit=1`).set(admin).expect(200);
  const raw = await request(app.url).get(`/v1/raw/${res.body.items[0].id}`).set(admin).expect(200);
  return raw.body as { id: string; verdict: string; detail: string | null; events: Record<string, unknown>[] };
}
