"""POST /delivery/carrier-webhook on the web tier's fast path (``commerce.shared.http.fastpath``):
every carrier step of every order is one of these, three or more per order, so a signed, well-formed
notification (or batch of them) is applied without Django's middleware and DRF. It answers what ``CarrierWebhookApi``
answers; a notification it is not sure of (too large, a signature that does not match, a body
the carrier adapter refuses) goes to ``CarrierWebhookApi``, which answers it in full."""
from __future__ import annotations

from commerce.delivery import services
from commerce.delivery.carrier import BadNotification, BadSignature, NotificationBatch, carrier
from commerce.delivery.http.views import WEBHOOK_BODY_MAX, batch_answer
from commerce.shared.http.fastpath import FastRequest, FastResponse

# what DRF adds to CarrierWebhookApi's answers
_HEADERS = (("Allow", "POST, OPTIONS"),)


def carrier_webhook_fast(request: FastRequest) -> FastResponse | None:
    if len(request.body) > WEBHOOK_BODY_MAX:
        return None
    try:
        update = carrier().parse_webhook(body=request.body, headers=request.headers)
    except (BadSignature, BadNotification):
        return None
    if isinstance(update, NotificationBatch):
        return FastResponse(200, batch_answer(update), _HEADERS)
    if update is None:
        return FastResponse(200, {"eventId": "", "outcome": "ignored"}, _HEADERS)
    outcome = services.delivery_apply_carrier_update(update)
    return FastResponse(200, {"eventId": update.event_id, "outcome": outcome}, _HEADERS)
