"""POST /order/process-order on the web tier's fast path (``commerce.shared.http.fastpath``): a
plain order from a buyer whose token is in the token cache is placed without Django's middleware
and DRF. It answers what ``OrderPlaceApi`` answers; anything it is not sure of (no cached token,
a body the serializer would have to judge, an Idempotency-Key that is not valid, an order the
service refuses) goes to ``OrderPlaceApi``, which answers it in full."""
from __future__ import annotations

from commerce.members import api as members_api
from commerce.orders import services
from commerce.orders.http.serializers import order_json
from commerce.orders.http.views import plain_order
from commerce.shared.http.fastpath import FastRequest, FastResponse
from commerce.shared.http.idempotency import IDEMPOTENCY_HEADER, idempotency_key_checked

# what DRF adds to OrderPlaceApi's answers
_HEADERS = (("Allow", "POST, OPTIONS"),)


def order_place_fast(request: FastRequest) -> FastResponse | None:
    buyer_id = members_api.member_id_for_bearer(request.header("Authorization"))
    if buyer_id is None:
        return None
    data = plain_order(request.data)
    if data is None:
        return None
    order, _ = services.order_place(
        buyer_id=buyer_id,
        items=[services.ItemRequest(product_id=i["productId"], quantity=i["quantity"]) for i in data["items"]],
        payment_method_id=data["paymentMethodId"], address_id=data["addressId"],
        idempotency_key=idempotency_key_checked(request.header(IDEMPOTENCY_HEADER)),
    )
    return FastResponse(202, order_json(order), _HEADERS)
