"""Payment endpoints: parse, call a service or selector, serialize. Errors are raised, not handled
here; ``commerce.shared.http.exceptions`` renders them as problem+json."""
from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.payments import selectors, services
from commerce.payments.http.serializers import (
    MethodCreateSerializer,
    MethodSerializer,
    MethodUpdateSerializer,
    PaymentSerializer,
    ProcessAnswerSerializer,
    ProcessPaymentSerializer,
)
from commerce.shared.http.idempotency import idempotency_key, idempotency_parameter
from commerce.shared.http.pagination import PAGE_PARAMETERS, PageRequest, page_response, page_serializer
from commerce.shared.http.problems import problem_responses

TAGS = ["payment"]
IDEMPOTENCY_PARAMETER = idempotency_parameter("without a second attempt")


class MethodListCreateApi(APIView):
    @extend_schema(
        operation_id="payment_method_create", summary="Add a card (tokenised at the gateway)", tags=TAGS,
        request=MethodCreateSerializer,
        responses={201: MethodSerializer, **problem_responses(
            400, 401, 415, 503, descriptions={400: "Invalid fields, a Luhn-invalid or an expired card.",
                                              503: "The payment gateway did not answer."})},
    )
    def post(self, request):
        serializer = MethodCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        method = services.method_add(member_id=request.user.id, card_number=data["cardNumber"],
                                     exp_month=data["expMonth"], exp_year=data["expYear"],
                                     holder_name=data["holderName"])
        return Response(MethodSerializer(method).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="payment_method_list", summary="Your payment methods, newest first", tags=TAGS,
        parameters=PAGE_PARAMETERS,
        responses={200: page_serializer(MethodSerializer, "PaymentMethodPage"), **problem_responses(400, 401)},
    )
    def get(self, request):
        page = selectors.method_list(member_id=request.user.id, page=PageRequest.from_params(request.query_params))
        return page_response(MethodSerializer(page.items, many=True).data, page)


class MethodUpdateApi(APIView):
    @extend_schema(
        operation_id="payment_method_update", summary="Change one of your payment methods", tags=TAGS,
        request=MethodUpdateSerializer,
        responses={200: MethodSerializer, **problem_responses(
            400, 401, 404, 415, descriptions={404: "No such method, or not yours."})},
    )
    def post(self, request, methodId: UUID):  # noqa: N803 (path parameter named as in the contract)
        serializer = MethodUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = services.method_update(member_id=request.user.id, method_id=methodId,
                                        changes=dict(serializer.validated_data))
        return Response(MethodSerializer(method).data)


class ProcessPaymentApi(APIView):
    @extend_schema(
        operation_id="payment_process", summary="Pay (or pay again) one of your orders", tags=TAGS,
        description="Answers the order's latest payment if it is pending, approved or refunded (no second "
                    "charge); after a decline or failure, starts a new attempt with `methodId`.",
        parameters=[IDEMPOTENCY_PARAMETER], request=ProcessPaymentSerializer,
        responses={202: ProcessAnswerSerializer, **problem_responses(
            400, 401, 404, 409, 415, descriptions={
                400: "Invalid fields, or the method is not your active, unexpired method.",
                404: "No payment was requested for this order from you.",
                409: "The order no longer awaits payment, or the Idempotency-Key was used with another body."})},
    )
    def post(self, request):
        key = idempotency_key(request)
        serializer = ProcessPaymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        answer = services.payment_process(buyer_id=request.user.id, order_id=data["orderId"],
                                          method_id=data["methodId"], idempotency_key=key)
        return Response(ProcessAnswerSerializer(answer).data, status=status.HTTP_202_ACCEPTED)


class PaymentDetailApi(APIView):
    @extend_schema(
        operation_id="payment_get", summary="One of your payments", tags=TAGS,
        responses={200: PaymentSerializer, **problem_responses(
            401, 404, descriptions={404: "No such payment, or not yours."})},
    )
    def get(self, request, paymentId: UUID):  # noqa: N803
        return Response(PaymentSerializer(selectors.payment_get(payment_id=paymentId, buyer_id=request.user.id)).data)
