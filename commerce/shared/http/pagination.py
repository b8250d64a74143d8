"""Cursor (keyset) pagination: ``?limit=`` (default 20, max 100) and an opaque ``?cursor=``;
responses are ``{"items": [...], "nextCursor": "..." | null}``.

A cursor is the sort key of the last item returned, signed with the project's secret so clients
cannot forge or edit it (a tampered or foreign cursor is a 400). Keyset pages stay correct while
rows are inserted, and each page costs one index range scan however deep the client goes.

Selectors use ``PageRequest`` + ``paginate_keyset``; a DRF list view can also set
``pagination_class = CursorPagination`` (with ``ordering``) to get the same behaviour.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.core import signing
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from commerce.shared.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_SALT = "commerce.shared.pagination.cursor"

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """What the client asked for: how many items, after which cursor (still encoded)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PageRequest:
        """From query parameters or a JSON body; a limit above the maximum is capped."""
        raw_limit = params.get("limit")
        if raw_limit in (None, ""):
            limit = DEFAULT_LIMIT
        else:
            limit = _whole_number(raw_limit)
            if limit is None:
                raise ValidationFailed({"limit": ["A whole number is required."]})
            if limit < 1:
                raise ValidationFailed({"limit": ["Must be at least 1."]})
        cursor = params.get("cursor") or None
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationFailed({"cursor": ["Invalid cursor."]})
        return cls(limit=min(limit, MAX_LIMIT), cursor=cursor)


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,9}", value.strip()):
        return int(value)
    return None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(position: Any) -> str:
    """Sign any JSON-serializable position (keyset values, a search offset, ...)."""
    return signing.dumps(position, salt=_SALT, compress=True)


def decode_cursor(cursor: str) -> Any:
    try:
        return signing.loads(cursor, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationFailed({"cursor": ["Invalid cursor."]}) from None


def paginate_keyset(queryset: QuerySet, *, ordering: Sequence[str], page: PageRequest) -> Page:
    """One page of ``queryset`` in ``ordering`` (e.g. ``("-created_at", "-id")``).

    The ordering fields must be non-null model fields and together unique (end with the pk).
    """
    ordering = tuple(ordering)
    if page.cursor is not None:
        position = decode_cursor(page.cursor)
        if (not isinstance(position, dict) or position.get("o") != list(ordering)
                or not isinstance(position.get("v"), list) or len(position["v"]) != len(ordering)):
            raise ValidationFailed({"cursor": ["Invalid cursor."]})
        queryset = queryset.filter(_after(ordering, position["v"]))
    rows = list(queryset.order_by(*ordering)[: page.limit + 1])
    items = rows[: page.limit]
    next_cursor = None
    if len(rows) > page.limit:
        last = items[-1]
        values = [_json_value(getattr(last, field.lstrip("-"))) for field in ordering]
        next_cursor = encode_cursor({"o": list(ordering), "v": values})
    return Page(items=items, next_cursor=next_cursor)


def _after(ordering: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in ``ordering``: (a > x) or (a = x and b > y) or ..."""
    alternatives = []
    for index, field in enumerate(ordering):
        name = field.lstrip("-")
        lookup = "lt" if field.startswith("-") else "gt"
        equal = {ordering[i].lstrip("-"): values[i] for i in range(index)}
        alternatives.append(Q(**equal, **{f"{name}__{lookup}": values[index]}))
    return reduce(or_, alternatives)


def _json_value(value: Any) -> Any:
    # full precision: Django's JSON encoder would cut datetimes to milliseconds and skip rows
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def page_response(items_data: list, page: Page) -> Response:
    return Response({"items": items_data, "nextCursor": page.next_cursor})


PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"Page size, default {DEFAULT_LIMIT}, max {MAX_LIMIT}."),
    OpenApiParameter("cursor", str, description="`nextCursor` of the previous page."),
]


def page_serializer(item_serializer: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """A documentation serializer for ``{"items": [item], "nextCursor"}``, e.g. for extend_schema."""
    return type(name, (serializers.Serializer,), {
        "items": item_serializer(many=True),
        "nextCursor": serializers.CharField(allow_null=True),
    })


class CursorPagination(BasePagination):
    """DRF pagination class over ``paginate_keyset``; set ``ordering`` on the view or a subclass."""

    ordering: Sequence[str] = ("-pk",)

    def paginate_queryset(self, queryset, request, view=None):
        ordering = getattr(view, "ordering", None) or self.ordering
        page = PageRequest.from_params(request.query_params)
        self.page = paginate_keyset(queryset, ordering=ordering, page=page)
        return self.page.items

    def get_paginated_response(self, data):
        return page_response(data, self.page)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["items", "nextCursor"],
            "properties": {"items": schema, "nextCursor": {"type": "string", "nullable": True}},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "limit", "required": False, "in": "query",
             "description": f"Page size, default {DEFAULT_LIMIT}, max {MAX_LIMIT}.",
             "schema": {"type": "integer"}},
            {"name": "cursor", "required": False, "in": "query",
             "description": "`nextCursor` of the previous page.", "schema": {"type": "string"}},
        ]
