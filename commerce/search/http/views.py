"""POST /catalog/search: parse, ask the index, answer.

Searches are the busiest request of the shop, so a well-formed body takes a lean path: decoded
with msgspec, checked by hand against the same bounds as the serializer, answered with the JSON
the index stores spliced in as it is. Anything the lean path does not accept as plainly valid
(an unusual type, a bound broken, a bad cursor, another content type) goes through the DRF view
below, which answers exactly as before: the same 400 problem+json errors, 415, 405.
"""
import uuid
from decimal import Decimal, InvalidOperation

import msgspec
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.search import query as search_query
from commerce.search import tasks
from commerce.shared.errors import Unavailable, ValidationFailed
from commerce.shared.http.problems import PROBLEM_CONTENT_TYPE, problem_body

_FILTER_KEYS = frozenset(("category", "sellerId", "minPrice", "maxPrice", "inStock"))
_PRICE_LIMIT = Decimal("1e12")  # 14 digits with 2 decimals


def _plain(value) -> bool:
    """A string DRF's CharField keeps as it is: no NUL, no lone surrogate."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _price(value):
    """A plainly valid price (what DecimalField(max_digits=14, decimal_places=2, min_value=0) takes), or None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not price.is_finite() or price < 0 or price >= _PRICE_LIMIT or price.as_tuple().exponent < -2:
        return None
    return price


def _lean_criteria(body) -> dict | None:
    """The search arguments of a body the serializer would accept unchanged; None for anything else."""
    if not isinstance(body, dict):
        return None
    query = body.get("query", "")
    if not _plain(query) or len(query) > 1000:
        return None
    sort = body.get("sort", "relevance")
    limit = body.get("limit", 20)
    cursor = body.get("cursor")
    if sort not in search_query.SORTS or type(limit) is not int or not 1 <= limit <= 100:
        return None
    if cursor is not None and (not _plain(cursor) or not cursor.strip() or len(cursor) > 500):
        return None
    criteria = {"query": query.strip(), "category": "", "seller_id": "", "min_price": None, "max_price": None,
                "in_stock": False, "sort": sort, "limit": limit, "cursor": cursor.strip() if cursor else None}
    if "filters" in body:
        filters = body["filters"]
        if not isinstance(filters, dict):
            return None
        if "category" in filters:
            category = filters["category"]
            if not _plain(category) or not category.strip() or len(category.strip()) > 40:
                return None
            criteria["category"] = category.strip()
        if "sellerId" in filters:
            try:
                criteria["seller_id"] = str(uuid.UUID(filters["sellerId"]))
            except (TypeError, ValueError, AttributeError):
                return None
        for name, argument in (("minPrice", "min_price"), ("maxPrice", "max_price")):
            if name in filters:
                criteria[argument] = _price(filters[name])
                if criteria[argument] is None:
                    return None
        if criteria["min_price"] is not None and criteria["max_price"] is not None and (
                criteria["min_price"] > criteria["max_price"]):
            return None
        if "inStock" in filters:
            if not isinstance(filters["inStock"], bool):
                return None
            criteria["in_stock"] = filters["inStock"]
    return criteria


def _unavailable(exc: Exception) -> HttpResponse:
    error = Unavailable(str(exc))
    body = problem_body(error.status, error.detail, title=error.title, type=error.type)
    return HttpResponse(msgspec.json.encode(body), status=error.status, content_type=PROBLEM_CONTENT_TYPE)


def lean_search(request) -> HttpResponse | None:
    """The answer to a plainly valid search, or None to let the DRF view answer."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if request.content_type != "application/json" or not (length.isdigit() and 0 < int(length) <= 16384):
        return None  # another media type, or an empty or large body: the serializer view answers as it always did
    try:
        criteria = _lean_criteria(msgspec.json.decode(request.body))
    except msgspec.DecodeError:
        return None
    if criteria is None:
        return None
    try:
        body = search_query.search_json(**criteria)
    except ValidationFailed:
        return None  # the DRF view reports it
    except search_query.IndexMissing as exc:
        tasks.request_rebuild()
        return _unavailable(exc)
    except search_query.SearchUnavailable as exc:
        return _unavailable(exc)
    return HttpResponse(body, content_type="application/json")


class SearchFiltersSerializer(serializers.Serializer):
    category = serializers.CharField(required=False, max_length=40)
    sellerId = serializers.UUIDField(required=False)  # noqa: N815 - the contract's field name
    minPrice = serializers.DecimalField(required=False, max_digits=14, decimal_places=2, min_value=0)  # noqa: N815
    maxPrice = serializers.DecimalField(required=False, max_digits=14, decimal_places=2, min_value=0)  # noqa: N815
    inStock = serializers.BooleanField(required=False)  # noqa: N815


class SearchRequestSerializer(serializers.Serializer):
    query = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    filters = SearchFiltersSerializer(required=False)
    sort = serializers.ChoiceField(choices=search_query.SORTS, required=False, default="relevance")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)
    cursor = serializers.CharField(required=False, allow_null=True, max_length=500)

    def validate(self, attrs):
        filters = attrs.get("filters") or {}
        low, high = filters.get("minPrice"), filters.get("maxPrice")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"filters": {"maxPrice": ["maxPrice is below minPrice."]}})
        return attrs


class SearchApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            response = lean_search(request)
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(request=SearchRequestSerializer, responses={200: dict}, summary="Search products")
    def post(self, request):
        body = SearchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        filters = data.get("filters") or {}
        try:
            result = search_query.search(
                query=data["query"], category=filters.get("category", ""),
                seller_id=str(filters["sellerId"]) if filters.get("sellerId") else "",
                min_price=filters.get("minPrice"), max_price=filters.get("maxPrice"),
                in_stock=filters.get("inStock", False), sort=data["sort"], limit=data["limit"],
                cursor=data.get("cursor"),
            )
        except search_query.IndexMissing as exc:
            # the index was lost (Redis flushed or restarted empty): rebuild it, answer 503 meanwhile
            tasks.request_rebuild()
            raise Unavailable(str(exc)) from None
        except search_query.SearchUnavailable as exc:
            raise Unavailable(str(exc)) from None
        return Response({
            "items": result.items, "total": result.total, "totalIsLowerBound": result.total_is_lower_bound,
            "nextCursor": result.next_cursor, "facets": {"category": result.facets},
        })
