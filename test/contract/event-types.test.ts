import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { ADMIN_TOKEN, seedConfig, startTestApp, type TestApp } from '../helpers/app';
import { openApi } from '../helpers/openapi';

/** GET /v1/openapi.json (no token) and GET /v1/event-types (scope read), issue #18. */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const READER = 'reader-token-0123456789abcdef';

describe('the contract documents', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(seedConfig({}, { tokens: [{ name: 'reader', token: READER, scopes: ['read'] }] }));
  });
  afterAll(() => app.close());

  it('serves the OpenAPI document without a token, as it is in the repository', async () => {
    const res = await request(app.url)
      .get('/v1/openapi.json')
      .expect(200)
      .expect('content-type', /^application\/json/);
    expect(res.body).toEqual(openApi().doc);
    expect(res.body.openapi).toBe('3.1.0');
    await request(app.url).get('/v1/openapi.json?x=1').expect(400);
  });

  it('lists every webhook event type with a JSON Schema its example passes', async () => {
    await request(app.url).get('/v1/event-types').expect(401);
    const res = await request(app.url)
      .get('/v1/event-types')
      .set({ authorization: `Bearer ${READER}` })
      .expect(200);
    const types = res.body.event_types as { name: string; description: string; schema: object; example: { type: string } }[];
    expect(types.map((t) => t.name)).toEqual(['message.status', 'message.engagement', 'message.stale', 'webhook.test']);
    expect(types.map((t) => t.name)).toEqual(Object.keys(openApi().doc.webhooks));
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const t of types) {
      expect(t.description).not.toBe('');
      expect(JSON.stringify(t.schema)).not.toContain('$ref'); // it stands alone
      const validate = ajv.compile(t.schema);
      expect({ name: t.name, valid: validate(t.example), errors: validate.errors ?? null }).toEqual({ name: t.name, valid: true, errors: null });
      expect(t.example.type).toBe(t.name);
      // and an example of another type does not pass
      const other = types.find((o) => o.name !== t.name)!;
      expect(validate(other.example)).toBe(false);
    }
  });

  it('gives the message types the schema of stored events (schemas/status-event.schema.json) with their type fixed', async () => {
    const res = await request(app.url).get('/v1/event-types').set(admin).expect(200);
    for (const t of (res.body.event_types as { name: string; schema: { allOf?: { required?: string[]; properties: { type: object } }[] } }[]).filter((e) =>
      e.name.startsWith('message.'),
    )) {
      const [stored, own] = t.schema.allOf!;
      expect(stored.required).toEqual(
        expect.arrayContaining(['id', 'type', 'provider', 'account', 'message_id', 'recipient', 'version', 'occurred_at', 'raw_id']),
      );
      expect(own.properties.type).toEqual({ const: t.name });
    }
    expect(openApi().doc.components.schemas.StatusEvent.description).toContain('schemas/status-event.schema.json');
  });
});
