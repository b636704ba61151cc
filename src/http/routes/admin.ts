import { Router } from 'express';
import type { AppContext } from '../../context';
import { DEFAULTS } from '../../config/config';
import { BadRequest } from '../../errors';
import { getDelivery, listDeliveries, retryDead, retryDelivery } from '../../outbox/deliveries';
import { createSubscription, deleteSubscription, getSubscription, listSubscriptions, rotateSecret, updateSubscription } from '../../outbox/subscriptions';
import { sendTestEvent } from '../../outbox/test-send';
import { findProvider } from '../../providers/registry';
import { register } from '../../status/registrations';
import { describeErrors, schemaValidator } from '../../util/schemas';
import { requireScope } from '../auth';
import { idempotent } from '../idempotency';
import { queryParams } from '../query-params';

interface RegistrationBody {
  provider: string;
  account?: string;
  message_id: string;
  recipient?: string;
  reference?: string;
  metadata?: Record<string, unknown>;
}

const validateRegistration = schemaValidator<RegistrationBody>('message-registration.schema.json');
const deliveriesQuery = queryParams<'state' | 'cursor' | 'limit'>('deliveries');
/** Every other admin route takes no query parameters: one given is a mistake, answered 400. */
const noQuery = queryParams('none');

/** The admin API (scope `admin`): subscriptions, their deliveries, send registration. */
export function adminRouter(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.dbh.db;
  // every POST here takes an Idempotency-Key (src/http/idempotency.ts)
  router.use(['/subscriptions', '/deliveries'], requireScope(ctx.config.tokens, 'admin'), idempotent(ctx));
  const id = (params: unknown) => (params as { id: string }).id;

  router.post('/subscriptions', async (req, res) => {
    noQuery(req.query);
    res.status(201).json(await createSubscription(db, req.body, new Date(), ctx.config.delivery.allowPrivateNetworks));
  });
  // Not paged: subscriptions are few, each made by an admin (see MAX_PAGE in db/paging.ts).
  router.get('/subscriptions', async (req, res) => {
    noQuery(req.query);
    res.json(await listSubscriptions(db));
  });
  router.get('/subscriptions/:id', async (req, res) => {
    noQuery(req.query);
    res.json(await getSubscription(db, id(req.params)));
  });
  router.patch('/subscriptions/:id', async (req, res) => {
    noQuery(req.query);
    const updated = await updateSubscription(db, id(req.params), req.body, new Date(), ctx.config.delivery.allowPrivateNetworks);
    if (updated.enabled) ctx.wakeWorker?.(); // re-enabled: its pending deliveries are due now
    res.json(updated);
  });
  router.delete('/subscriptions/:id', async (req, res) => {
    noQuery(req.query);
    await deleteSubscription(db, id(req.params));
    res.status(204).end();
  });
  router.post('/subscriptions/:id/rotate-secret', async (req, res) => {
    noQuery(req.query);
    res.json(await rotateSecret(db, id(req.params), new Date()));
  });
  // Sends a signed webhook.test event now and answers with the attempt: 200 whatever the subscriber answered.
  router.post('/subscriptions/:id/test', async (req, res) => {
    noQuery(req.query);
    res.json(await sendTestEvent(ctx, id(req.params)));
  });
  // Items without response bodies (those are in GET /v1/deliveries/:id): see MAX_PAGE.
  router.get('/subscriptions/:id/deliveries', async (req, res) => {
    res.json(await listDeliveries(ctx.dbh.read, id(req.params), deliveriesQuery(req.query)));
  });
  router.post('/subscriptions/:id/retry-dead', async (req, res) => {
    noQuery(req.query);
    const result = await retryDead(db, id(req.params), new Date());
    ctx.wakeWorker?.();
    res.json(result);
  });
  router.get('/deliveries/:id', async (req, res) => {
    noQuery(req.query);
    res.json(await getDelivery(ctx.dbh.read, id(req.params)));
  });
  router.post('/deliveries/:id/retry', async (req, res) => {
    noQuery(req.query);
    const delivery = await retryDelivery(db, id(req.params), new Date());
    ctx.wakeWorker?.();
    res.json(delivery);
  });

  router.post('/messages', requireScope(ctx.config.tokens, 'admin'), idempotent(ctx), async (req, res) => {
    noQuery(req.query);
    const body: unknown = req.body;
    if (!validateRegistration(body)) throw new BadRequest(`invalid registration: ${describeErrors().join('; ')}`);
    const key = { provider: body.provider, account: body.account ?? 'default', messageId: body.message_id, recipient: body.recipient ?? '' };
    // Labelled only with a configured provider and account: the body's text never becomes a label value.
    const target = findProvider(key.provider, ctx.config.providers);
    const accounts = target !== undefined ? ctx.config.providers[target.name]?.accounts : undefined;
    const configured = accounts !== undefined && Object.hasOwn(accounts, key.account);
    const finalAfter = configured ? accounts[key.account].finalAfterSeconds : DEFAULTS.finalAfterSeconds;
    await register(db, key, { reference: body.reference ?? null, metadata: body.metadata ?? null }, new Date(), finalAfter);
    ctx.metrics.registrations.inc(configured && target ? { provider: target.name, account: key.account } : { provider: 'unknown', account: 'unknown' });
    res.status(201).json({
      provider: key.provider,
      account: key.account,
      message_id: key.messageId,
      recipient: body.recipient ?? null,
      reference: body.reference ?? null,
      metadata: body.metadata ?? null,
    });
  });

  return router;
}
