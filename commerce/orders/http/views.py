"""Order endpoints: parse, call a service or selector, answer. Errors are raised, not handled
here; ``commerce.shared.http.exceptions`` renders them as problem+json."""
from __future__ import annotations

from uuid import UUID

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.orders import selectors, services
from commerce.orders.http.serializers import OrderPlaceSerializer, OrderSerializer, order_json
from commerce.shared.http.idempotency import idempotency_key, idempotency_parameter
from commerce.shared.http.pagination import PAGE_PARAMETERS, PageRequest, page_serializer
from commerce.shared.http.problems import problem_responses

TAGS = ["orders"]


def _text(value) -> bool:
    """A string DRF's CharField(max_length=64) keeps as it is."""
    return (isinstance(value, str) and 0 < len(value) <= 64 and value == value.strip() and "\x00" not in value
            and value.isprintable())


def plain_order(data) -> dict | None:
    """The validated data of an order body the serializer would accept unchanged, checked without
    building serializer fields (a tenth of the request's CPU); None for anything else, which then
    goes through ``OrderPlaceSerializer`` and its error messages."""
    if not isinstance(data, dict) or data.keys() - {"items", "paymentMethodId", "addressId"}:
        return None
    items, method_id, address_id = data.get("items"), data.get("paymentMethodId"), data.get("addressId")
    if not (_text(method_id) and _text(address_id) and isinstance(items, list)
            and 0 < len(items) <= settings.ORDERS["MAX_LINES"]):
        return None
    lines = []
    for item in items:
        if not isinstance(item, dict) or item.keys() != {"productId", "quantity"}:
            return None
        quantity, product_id = item["quantity"], item["productId"]
        if type(quantity) is not int or not 1 <= quantity <= settings.ORDERS["MAX_QUANTITY"]:
            return None
        if not isinstance(product_id, str) or len(product_id) != 36:
            return None
        try:
            lines.append({"productId": UUID(product_id), "quantity": quantity})
        except ValueError:
            return None
    if len({line["productId"] for line in lines}) != len(lines):
        return None
    return {"items": lines, "paymentMethodId": method_id, "addressId": address_id}


class OrderPlaceApi(APIView):
    @extend_schema(
        operation_id="order_place", summary="Place an order (answers at once; the saga runs after)", tags=TAGS,
        request=OrderPlaceSerializer,
        parameters=[idempotency_parameter("(the same order, no second one)")],
        responses={202: OrderSerializer, **problem_responses(
            400, 401, 409, 415, descriptions={
                400: "Invalid body, an unknown product, or a payment method or address that is not yours.",
                409: "The Idempotency-Key was used with a different body."})},
    )
    def post(self, request):
        key = idempotency_key(request)
        data = plain_order(request.data)
        if data is None:
            serializer = OrderPlaceSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        order, _ = services.order_place(
            buyer_id=request.user.id,
            items=[services.ItemRequest(product_id=i["productId"], quantity=i["quantity"]) for i in data["items"]],
            payment_method_id=data["paymentMethodId"], address_id=data["addressId"], idempotency_key=key,
        )
        return Response(order_json(order), status=status.HTTP_202_ACCEPTED)


class OrderDetailApi(APIView):
    @extend_schema(operation_id="order_get", summary="One of your orders", tags=TAGS,
                   responses={200: OrderSerializer, **problem_responses(401, 404)})
    def get(self, request, orderId: UUID):
        return Response(order_json(selectors.order_get(buyer_id=request.user.id, order_id=orderId)))


class OrderListApi(APIView):
    @extend_schema(operation_id="order_list", summary="Your orders, newest first", tags=TAGS,
                   parameters=PAGE_PARAMETERS,
                   responses={200: page_serializer(OrderSerializer, "OrderPage"), **problem_responses(400, 401)})
    def get(self, request):
        page = selectors.orders_list(buyer_id=request.user.id, page=PageRequest.from_params(request.query_params))
        return Response({"items": [order_json(o) for o in page.items], "nextCursor": page.next_cursor})


class OrderCancelApi(APIView):
    @extend_schema(
        operation_id="order_cancel", summary="Cancel one of your orders that has not been shipped", tags=TAGS,
        request=None,
        responses={200: OrderSerializer, **problem_responses(
            401, 404, 409, descriptions={409: "The order is shipped, completed or failed."})},
    )
    def post(self, request, orderId: UUID):
        return Response(order_json(services.order_cancel(buyer_id=request.user.id, order_id=orderId)))
