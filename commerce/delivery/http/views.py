"""Delivery endpoints: parse, call a service or selector, serialize. Errors are raised, not
handled here; ``commerce.shared.http.exceptions`` renders them as problem+json."""
from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.delivery import selectors, services, tasks
from commerce.delivery.carrier import SIGNATURE_HEADER, BadNotification, BadSignature, NotificationBatch, carrier
from commerce.delivery.http.serializers import (
    AddressCreateSerializer,
    AddressSerializer,
    DeliverySerializer,
    ProcessDeliverySerializer,
    WebhookAnswerSerializer,
)
from commerce.shared.errors import Unauthorized, ValidationFailed
from commerce.shared.http.pagination import PAGE_PARAMETERS, PageRequest, page_response, page_serializer
from commerce.shared.http.problems import problem_responses

TAGS = ["delivery"]
WEBHOOK_BODY_MAX = 256 * 1024  # a batch of up to carrier.BATCH_MAX notifications


def batch_answer(batch: NotificationBatch) -> dict:
    """What a batched webhook answers: one result per notification, in the batch's order. One the
    adapter refused is ``invalid`` (with why); the rest are applied as one batch."""
    updates = [item for item in batch.items if item is not None and not isinstance(item, BadNotification)]
    outcomes = iter(services.delivery_apply_carrier_updates(updates) if updates else [])
    results = []
    for event_id, item in zip(batch.event_ids, batch.items, strict=True):
        if isinstance(item, BadNotification):
            results.append({"eventId": event_id, "outcome": "invalid", "detail": str(item)})
        elif item is None:
            results.append({"eventId": event_id, "outcome": "ignored"})
        else:
            results.append({"eventId": item.event_id, "outcome": next(outcomes)})
    return {"results": results}


class AddressListCreateApi(APIView):
    @extend_schema(
        operation_id="delivery_address_create", summary="Add one of your delivery addresses", tags=TAGS,
        request=AddressCreateSerializer,
        responses={201: AddressSerializer, **problem_responses(400, 401, 415)},
    )
    def post(self, request):
        serializer = AddressCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        address = services.address_create(
            owner_id=request.user.id, recipient=data["recipient"], phone=data["phone"], line1=data["line1"],
            line2=data["line2"], city=data["city"], postal_code=data["postalCode"], country=data["country"],
        )
        address.refresh_from_db(fields=["created_at"])
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="delivery_address_list", summary="Your own addresses, newest first", tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: page_serializer(AddressSerializer, "AddressPage"), **problem_responses(400, 401)},
    )
    def get(self, request):
        page = selectors.address_list(owner_id=request.user.id, page=PageRequest.from_params(request.query_params))
        return page_response(AddressSerializer(page.items, many=True).data, page)


class ProcessDeliveryApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="delivery_process", summary="Send an order's delivery to the carrier again (staff only)",
        tags=TAGS,
        description="Deliveries are created from `OrderConfirmed` events, which carry the address. This "
                    "call (re)sends the booking of the order's existing `REQUESTED` delivery at once "
                    "(safe to repeat: the carrier is idempotent by shipment key). No delivery for the "
                    "order: 404; a delivery already shipped, delivered or failed: 409.",
        request=ProcessDeliverySerializer,
        responses={202: DeliverySerializer, **problem_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request):
        serializer = ProcessDeliverySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = services.delivery_resend(order_id=serializer.validated_data["orderId"])
        tasks.kick_carrier_sync_after_commit()
        delivery = selectors.delivery_get(delivery_id=delivery.id, requester_id=request.user.id,
                                          requester_is_staff=True)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryDetailApi(APIView):
    @extend_schema(
        operation_id="delivery_get", summary="A delivery and its history (the order's buyer, or staff)",
        tags=TAGS, responses={200: DeliverySerializer, **problem_responses(401, 404)},
    )
    def get(self, request, deliveryId: UUID):  # noqa: N803 (path parameter named as in the contract)
        delivery = selectors.delivery_get(delivery_id=deliveryId, requester_id=request.user.id,
                                          requester_is_staff=request.user.is_staff)
        return Response(DeliverySerializer(delivery).data)


class CarrierWebhookApi(APIView):
    """Called by the carrier, not by members: authenticated by the HMAC signature of the body."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="delivery_carrier_webhook", summary="Carrier status notification (signed)", tags=TAGS,
        auth=[],
        description=f"Raw JSON body signed with HMAC-SHA256 and the shared secret, sent as "
                    f"`{SIGNATURE_HEADER}: sha256=<hex>`. A wrong or missing signature is 401 and changes "
                    "nothing. Deduplicated by `eventId`; a status that would move the delivery back is "
                    "recorded and ignored (`stale`). One notification per body, or a batch "
                    "(`{\"events\": [...]}`, up to 500), answered with one result per notification "
                    "(`{\"results\": [{\"eventId\", \"outcome\"}]}`; a malformed one is `invalid`, "
                    "with a `detail`, and does not stop the others).",
        request={"application/json": {"type": "object"}},
        responses={200: WebhookAnswerSerializer, **problem_responses(
            400, 401, descriptions={401: "Missing or wrong signature."})},
    )
    def post(self, request):
        body = request.body  # the raw bytes, as signed (before any parsing)
        if len(body) > WEBHOOK_BODY_MAX:
            raise ValidationFailed({"body": [f"At most {WEBHOOK_BODY_MAX} bytes."]})
        try:
            update = carrier().parse_webhook(body=body, headers=request.headers)
        except BadSignature as exc:
            raise Unauthorized(str(exc)) from None
        except BadNotification as exc:
            raise ValidationFailed({"body": [str(exc)]}) from None
        if isinstance(update, NotificationBatch):
            return Response(batch_answer(update))
        if update is None:
            return Response({"eventId": "", "outcome": "ignored"})
        outcome = services.delivery_apply_carrier_update(update)
        return Response({"eventId": update.event_id, "outcome": outcome})
