import pytest
from django.contrib.auth.models import Group
from django.core import signing
from django.test import RequestFactory
from rest_framework.request import Request

from commerce.shared.errors import ValidationFailed
from commerce.shared.http.pagination import (
    CursorPagination,
    PageRequest,
    decode_cursor,
    encode_cursor,
    paginate_keyset,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups():
    return [Group.objects.create(name=f"group-{index:03d}") for index in range(45)]


def walk(queryset, ordering, limit):
    names, cursor = [], None
    while True:
        page = paginate_keyset(queryset, ordering=ordering, page=PageRequest(limit=limit, cursor=cursor))
        names.extend(group.name for group in page.items)
        if page.next_cursor is None:
            return names
        cursor = page.next_cursor


def test_pages_walk_every_row_exactly_once_in_order(groups):
    names = walk(Group.objects.all(), ("name", "id"), limit=20)

    assert names == sorted(group.name for group in groups)


def test_descending_order_is_followed(groups):
    names = walk(Group.objects.all(), ("-id",), limit=7)

    assert names == [group.name for group in reversed(groups)]


def test_the_last_page_has_no_next_cursor(groups):
    page = paginate_keyset(Group.objects.all(), ordering=("id",), page=PageRequest(limit=45))

    assert len(page.items) == 45
    assert page.next_cursor is None


def test_rows_inserted_before_the_cursor_do_not_shift_the_next_page(groups):
    first = paginate_keyset(Group.objects.all(), ordering=("name", "id"), page=PageRequest(limit=10))
    Group.objects.create(name="group-000a")  # sorts into the first page

    second = paginate_keyset(Group.objects.all(), ordering=("name", "id"),
                             page=PageRequest(limit=10, cursor=first.next_cursor))

    assert second.items[0].name == "group-010"


def test_limit_defaults_to_20_and_is_capped_at_100():
    assert PageRequest.from_params({}).limit == 20
    assert PageRequest.from_params({"limit": "5"}).limit == 5
    assert PageRequest.from_params({"limit": 1000}).limit == 100


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "2.5", 2.5, True, [], "--5"])
def test_a_limit_that_is_not_a_positive_whole_number_is_rejected(limit):
    with pytest.raises(ValidationFailed) as raised:
        PageRequest.from_params({"limit": limit})

    assert "limit" in raised.value.errors


@pytest.mark.parametrize("cursor", ["garbage", "eyJvIjpbImlkIl19", signing.dumps({"o": ["id"], "v": [1]})])
def test_a_forged_or_foreign_cursor_is_rejected(groups, cursor):
    with pytest.raises(ValidationFailed) as raised:
        paginate_keyset(Group.objects.all(), ordering=("id",), page=PageRequest(cursor=cursor))

    assert "cursor" in raised.value.errors


def test_a_cursor_from_a_different_ordering_is_rejected(groups):
    page = paginate_keyset(Group.objects.all(), ordering=("name", "id"), page=PageRequest(limit=5))

    with pytest.raises(ValidationFailed):
        paginate_keyset(Group.objects.all(), ordering=("-id",), page=PageRequest(cursor=page.next_cursor))


def test_any_position_round_trips_through_a_cursor():
    assert decode_cursor(encode_cursor({"offset": 40, "q": "무선"})) == {"offset": 40, "q": "무선"}


def test_the_drf_pagination_class_answers_items_and_next_cursor(groups):
    request = Request(RequestFactory().get("/things", {"limit": "10"}))
    paginator = CursorPagination()

    items = paginator.paginate_queryset(Group.objects.all(), request)
    response = paginator.get_paginated_response([group.name for group in items])

    assert set(response.data) == {"items", "nextCursor"}
    assert len(response.data["items"]) == 10
    assert response.data["nextCursor"]


@pytest.mark.urls("tests.shared.crash_urls")
def test_a_paginated_list_endpoint_follows_the_contract(api_client, groups):
    first = api_client.get("/test/groups", {"limit": "40"})
    second = api_client.get("/test/groups", {"limit": "40", "cursor": first.json()["nextCursor"]})

    assert first.status_code == second.status_code == 200
    assert set(first.json()) == {"items", "nextCursor"}
    assert len(first.json()["items"]) == 40
    assert len(second.json()["items"]) == 5
    assert second.json()["nextCursor"] is None
    assert api_client.get("/test/groups").json()["items"][:2] == ["group-000", "group-001"]
    assert len(api_client.get("/test/groups").json()["items"]) == 20


@pytest.mark.urls("tests.shared.crash_urls")
@pytest.mark.parametrize("params", [{"cursor": "tampered"}, {"limit": "0"}, {"limit": "many"}])
def test_a_bad_cursor_or_limit_in_a_request_is_a_400_problem(api_client, groups, params):
    response = api_client.get("/test/groups", params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) <= {"cursor", "limit"}
