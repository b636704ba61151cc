// A dlr-receiver subscriber in Node: express + the standardwebhooks package (npm install express standardwebhooks).
// DLR_WEBHOOK_SECRET is the subscription's secret (whsec_…), shown when it was created or rotated.
const express = require('express');
const { Webhook } = require('standardwebhooks');

const webhook = new Webhook(process.env.DLR_WEBHOOK_SECRET);
const app = express();

// The signature covers the body exactly as sent: take the raw bytes on this route (no express.json() before it).
app.post('/webhooks/dlr', express.raw({ type: 'application/json', limit: '1mb' }), (req, res) => {
  let event;
  try {
    event = webhook.verify(req.body, req.headers); // checks webhook-id, webhook-timestamp (±5 min) and webhook-signature
  } catch (err) {
    console.warn(`rejected: ${err.message}`);
    return res.status(401).send('invalid signature');
  }
  // Delivery is at least once: a webhook-id (= event.id) seen before is a retry. For message.* events,
  // also drop one whose version is not higher than the last you applied for that message.
  switch (event.type) {
    case 'message.status':
      console.log(`verified ${event.id}: ${event.provider} ${event.message_id} is ${event.status}`);
      break;
    case 'webhook.test':
      console.log(`verified ${event.id}: test event for ${event.subscription_id}`);
      break;
    default:
      console.log(`verified ${event.id}: ${event.type}`);
  }
  res.sendStatus(204); // any 2xx ends the delivery; answer fast and do slow work afterwards
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`listening on http://${server.address().address}:${server.address().port}/webhooks/dlr`);
});
