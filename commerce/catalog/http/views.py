"""Catalog endpoints: parse, call a service or selector, serialize. Errors are raised, not handled
here; ``commerce.shared.http.exceptions`` renders them as problem+json."""
from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.catalog import selectors, services
from commerce.catalog.http.permissions import IsSeller
from commerce.catalog.http.serializers import (
    InventoryChangeSerializer,
    InventoryCountSerializer,
    ProductCreateSerializer,
    ProductSerializer,
    ProductUpdateSerializer,
)
from commerce.catalog.store import ProductDoc
from commerce.shared.http.idempotency import idempotency_key, idempotency_parameter
from commerce.shared.http.problems import problem_responses

TAGS = ["catalog"]
IDEMPOTENCY_PARAMETER = idempotency_parameter("without changing stock twice")


def _with_stock(doc: ProductDoc) -> selectors.ProductView:
    level = selectors.stock_levels([doc.product_id]).get(doc.product_id)
    return selectors.ProductView(doc, level.available if level else 0)


class ProductCreateApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        operation_id="catalog_product_create", summary="Put a new product on sale (sellers only)", tags=TAGS,
        request=ProductCreateSerializer,
        responses={201: ProductSerializer, **problem_responses(
            400, 401, 403, 415, descriptions={403: "Only sellers may create products."})},
    )
    def post(self, request):
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        doc = services.product_create(
            seller_id=request.user.id, name=data["name"], description=data["description"], price=data["price"],
            currency=data["currency"], category=data["category"], attributes=data["attributes"],
            stock=data["stock"],
        )
        # a new product holds no reservations: everything on hand is available
        view = selectors.ProductView(doc, available=data["stock"])
        return Response(ProductSerializer(view).data, status=status.HTTP_201_CREATED)


class ProductDetailApi(APIView):
    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [AllowAny()]
        return [IsSeller()]

    @extend_schema(
        operation_id="catalog_product_get", summary="Read a product (public)", tags=TAGS,
        responses={200: ProductSerializer, **problem_responses(
            401, 404, descriptions={401: "An invalid token was sent (no token is fine).",
                                    404: "No such product, or it is no longer on sale."})},
    )
    def get(self, request, productId: UUID):  # noqa: N803 (path parameter named as in the contract)
        return Response(ProductSerializer(selectors.product_get(product_id=productId)).data)

    @extend_schema(
        operation_id="catalog_product_update", summary="Replace a product's details (its seller only)", tags=TAGS,
        description="Full replacement: omitted optional fields take their defaults (`currency` "
                    "`KRW`, `attributes` `{}`, `active` `true`). Stock changes go through "
                    "`/catalog/change-inventory-count`.",
        request=ProductUpdateSerializer,
        responses={200: ProductSerializer, **problem_responses(
            400, 401, 403, 404, 415, descriptions={403: "Not this product's seller."})},
    )
    def put(self, request, productId: UUID):  # noqa: N803
        serializer = ProductUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        doc = services.product_update(
            product_id=productId, actor_id=request.user.id, name=data["name"], description=data["description"],
            price=data["price"], currency=data["currency"], category=data["category"],
            attributes=data["attributes"], active=data["active"],
        )
        return Response(ProductSerializer(_with_stock(doc)).data)


class InventoryChangeApi(APIView):
    permission_classes = [IsSeller]

    @extend_schema(
        operation_id="catalog_inventory_change", summary="Add or take away stock (the product's seller only)",
        tags=TAGS, parameters=[IDEMPOTENCY_PARAMETER],
        request=InventoryChangeSerializer,
        responses={200: InventoryCountSerializer, **problem_responses(
            400, 401, 403, 404, 409, 415, descriptions={
                403: "Not this product's seller.",
                409: "The change would make available stock negative, or the Idempotency-Key was used "
                     "with a different body."})},
    )
    def post(self, request):
        key = idempotency_key(request)
        serializer = InventoryChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        level = services.stock_change(
            product_id=data["productId"], actor_id=request.user.id, delta=data["delta"], reason=data["reason"],
            idempotency_key=key,
        )
        return Response(InventoryCountSerializer(level).data)
