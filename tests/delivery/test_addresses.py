"""Addresses over HTTP (validated, owner-only) and the public address_snapshot."""
import uuid

import pytest

from commerce.delivery import api
from commerce.delivery.models import Address
from tests.delivery.conftest import ADDRESS

pytestmark = pytest.mark.django_db


def test_a_buyer_adds_an_address_and_lists_it(member_client):
    response = member_client.post("/delivery/addresses", {**ADDRESS, "country": "kr"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ADDRESS} == {**ADDRESS, "country": "KR"}
    assert uuid.UUID(body["addressId"]) and body["createdAt"]

    listed = member_client.get("/delivery/addresses").json()
    assert [item["addressId"] for item in listed["items"]] == [body["addressId"]]
    assert listed["nextCursor"] is None


def test_line2_is_optional(member_client):
    fields = {k: v for k, v in ADDRESS.items() if k != "line2"}
    response = member_client.post("/delivery/addresses", fields, format="json")
    assert response.status_code == 201 and response.json()["line2"] == ""


@pytest.mark.parametrize(("field", "value"), [
    ("recipient", ""),
    ("recipient", "x" * 101),
    ("recipient", "Kim\nMinji"),
    ("phone", "010-1234-5678"),
    ("phone", "12345"),
    ("phone", "+1234567890123456"),
    ("phone", "++821012345678"),
    ("line1", ""),
    ("line1", "y" * 201),
    ("city", ""),
    ("postalCode", "045/24"),
    ("postalCode", "1" * 21),
    ("country", "KOR"),
    ("country", "XX"),
    ("country", "UK"),
    ("country", 82),
])
def test_a_bad_field_is_a_400_naming_it_and_nothing_is_stored(member_client, field, value):
    response = member_client.post("/delivery/addresses", {**ADDRESS, field: value}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()
    assert not Address.objects.exists()


@pytest.mark.parametrize("missing", ["recipient", "phone", "line1", "city", "postalCode", "country"])
def test_every_required_field_is_required(member_client, missing):
    fields = {k: v for k, v in ADDRESS.items() if k != missing}
    response = member_client.post("/delivery/addresses", fields, format="json")
    assert response.status_code == 400 and missing in response.json()["errors"]


def test_a_body_that_is_not_an_object_is_a_400(member_client):
    response = member_client.post("/delivery/addresses", "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"


def test_addresses_need_a_token(api_client):
    assert api_client.get("/delivery/addresses").status_code == 401
    assert api_client.post("/delivery/addresses", ADDRESS, format="json").status_code == 401


def test_a_member_sees_only_their_own_addresses(make_member, client_for):
    owner, other = make_member(), make_member()
    created = client_for(owner).post("/delivery/addresses", ADDRESS, format="json").json()
    assert client_for(other).get("/delivery/addresses").json()["items"] == []
    assert api.address_snapshot(str(other.id), created["addressId"]) is None


def test_the_list_pages_newest_first(member_client):
    ids = [member_client.post("/delivery/addresses", {**ADDRESS, "line2": f"Apt {n}"}, format="json")
           .json()["addressId"] for n in range(3)]
    first = member_client.get("/delivery/addresses?limit=2").json()
    second = member_client.get(f"/delivery/addresses?limit=2&cursor={first['nextCursor']}").json()
    assert [a["addressId"] for a in first["items"] + second["items"]] == ids[::-1]
    assert second["nextCursor"] is None
    assert member_client.get("/delivery/addresses?cursor=forged").status_code == 400


def test_address_snapshot_is_the_address_as_plain_data(member, member_client, django_assert_num_queries):
    created = member_client.post("/delivery/addresses", ADDRESS, format="json").json()
    with django_assert_num_queries(1):
        snapshot = api.address_snapshot(str(member.id), created["addressId"])
    assert snapshot == {"addressId": created["addressId"], **ADDRESS}


@pytest.mark.parametrize(("buyer", "address"), [("not-a-uuid", "OWN"), ("", "OWN"), ("OWNER", "not-a-uuid"),
                                               ("OWNER", "")])
def test_address_snapshot_of_a_malformed_id_is_none(member, member_client, buyer, address):
    own = member_client.post("/delivery/addresses", ADDRESS, format="json").json()["addressId"]
    buyer = str(member.id) if buyer == "OWNER" else buyer
    address = own if address == "OWN" else address
    assert api.address_snapshot(buyer, address) is None


def test_address_snapshot_of_an_unknown_address_is_none(member):
    assert api.address_snapshot(str(member.id), str(uuid.uuid4())) is None
