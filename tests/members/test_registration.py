import pytest

from commerce.members.models import Member

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def register(client, **overrides):
    body = {"email": "kim@example.com", "password": "s3cret-pass", "name": "Kim Minji", "role": "buyer"}
    body.update(overrides)
    return client.post("/member/registration", body, format="json")


def test_registration_returns_the_new_member(api_client):
    response = register(api_client, role="seller")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"userId", "email", "name", "role"}
    assert body["email"] == "kim@example.com"
    assert body["name"] == "Kim Minji"
    assert body["role"] == "seller"
    assert Member.objects.get(pk=body["userId"]).role == "seller"


def test_registration_never_returns_the_password(api_client):
    response = register(api_client)

    assert "password" not in response.content.decode()
    assert "s3cret-pass" not in response.content.decode()


def test_registration_stores_an_argon2_hash_not_the_password(api_client):
    user_id = register(api_client).json()["userId"]

    stored = Member.objects.get(pk=user_id).password
    assert stored.startswith("argon2$argon2id$")
    assert "s3cret-pass" not in stored


def test_registration_normalizes_the_email_to_lower_case(api_client):
    response = register(api_client, email="  Kim.MinJi@Example.COM ")

    assert response.status_code == 201
    assert response.json()["email"] == "kim.minji@example.com"


def test_registering_the_same_email_twice_is_a_conflict(api_client):
    register(api_client)

    response = register(api_client, name="Someone Else")

    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 409
    assert Member.objects.count() == 1


def test_email_duplicates_are_detected_regardless_of_case(api_client):
    register(api_client, email="kim@example.com")

    response = register(api_client, email="KIM@Example.com")

    assert response.status_code == 409


def test_a_password_shorter_than_eight_characters_is_rejected_with_a_field_error(api_client):
    response = register(api_client, password="short77")

    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(body)
    assert body["status"] == 400
    assert list(body["errors"]) == ["password"]
    assert body["errors"]["password"]
    assert not Member.objects.exists()


def test_a_password_of_exactly_eight_characters_is_accepted(api_client):
    assert register(api_client, password="12345678").status_code == 201


@pytest.mark.parametrize("role", ["admin", "staff", "", "BUYER", None])
def test_a_role_other_than_buyer_or_seller_is_rejected(api_client, role):
    response = register(api_client, role=role)

    assert response.status_code == 400
    assert "role" in response.json()["errors"]


def test_missing_fields_are_all_reported(api_client):
    response = api_client.post("/member/registration", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "password", "name", "role"}


def test_an_invalid_email_is_rejected(api_client):
    response = register(api_client, email="not-an-email")

    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_registration_needs_no_token_and_ignores_a_bad_one(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")

    assert register(api_client).status_code == 201
