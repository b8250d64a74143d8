"""POST /catalog/search: parse, ask the index, answer."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.search import query as search_query
from commerce.search import tasks
from commerce.shared.errors import Unavailable


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
