# A dlr-receiver subscriber in Python: Flask + the standardwebhooks package (pip install flask standardwebhooks).
# DLR_WEBHOOK_SECRET is the subscription's secret (whsec_…), shown when it was created or rotated.
import os

from flask import Flask, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["DLR_WEBHOOK_SECRET"])
app = Flask(__name__)


@app.post("/webhooks/dlr")
def receive():
    # The raw body: the signature covers the bytes exactly as sent.
    try:
        event = webhook.verify(request.get_data(), dict(request.headers))
    except WebhookVerificationError as err:
        app.logger.warning("rejected: %s", err)
        return "invalid signature", 401
    # At least once: drop a webhook-id (= event["id"]) seen before, and a message.* event whose
    # version is not higher than the last you applied for that message.
    app.logger.info("verified %s: %s", event["id"], event["type"])
    return "", 204
