import uuid

import pytest
from django.contrib.auth.hashers import check_password
from knox.models import get_token_model

from commerce.members.models import Member

pytestmark = pytest.mark.django_db


def test_a_member_reads_their_own_record(member_client, member):
    response = member_client.get(f"/member/members/{member.id}")

    assert response.status_code == 200
    assert response.json() == {"userId": str(member.id), "email": member.email, "name": member.name,
                               "role": member.role}


def test_another_members_record_is_404_and_reveals_nothing(member_client, make_member):
    other = make_member(name="Someone Private")

    response = member_client.get(f"/member/members/{other.id}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert other.email not in response.content.decode()
    assert "Someone Private" not in response.content.decode()


def test_an_unknown_member_id_is_404_like_someone_elses(member_client, make_member):
    someone_elses = member_client.get(f"/member/members/{make_member().id}")
    unknown = member_client.get(f"/member/members/{uuid.uuid4()}")

    assert someone_elses.status_code == unknown.status_code == 404
    assert someone_elses.json() == unknown.json()


def test_a_member_id_that_is_not_a_uuid_is_a_problem_404(member_client):
    response = member_client.get("/member/members/12345")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_member_renames_themselves(member_client, member):
    response = member_client.put(f"/member/members/{member.id}", {"name": "New Name"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "New Name"
    assert Member.objects.get(pk=member.id).name == "New Name"


def test_updating_another_member_is_404_and_changes_nothing(member_client, make_member):
    other = make_member(name="Unchanged")

    response = member_client.put(f"/member/members/{other.id}", {"name": "Hijacked"}, format="json")

    assert response.status_code == 404
    assert Member.objects.get(pk=other.id).name == "Unchanged"


def test_a_password_change_with_the_current_password_works(member_client, member, api_client):
    response = member_client.put(
        f"/member/members/{member.id}",
        {"password": "brand-new-pass", "currentPassword": member.raw_password}, format="json",
    )

    assert response.status_code == 200
    assert "password" not in response.json()
    assert check_password("brand-new-pass", Member.objects.get(pk=member.id).password)
    login = api_client.post("/member/login", {"email": member.email, "password": "brand-new-pass"},
                            format="json")
    assert login.status_code == 200


def test_a_password_change_without_the_current_password_is_rejected(member_client, member):
    response = member_client.put(f"/member/members/{member.id}", {"password": "brand-new-pass"},
                                 format="json")

    assert response.status_code == 400
    assert "currentPassword" in response.json()["errors"]
    assert check_password(member.raw_password, Member.objects.get(pk=member.id).password)


def test_a_password_change_with_a_wrong_current_password_is_rejected(member_client, member):
    response = member_client.put(
        f"/member/members/{member.id}",
        {"password": "brand-new-pass", "currentPassword": "not-my-password"}, format="json",
    )

    assert response.status_code == 400
    assert "currentPassword" in response.json()["errors"]
    assert check_password(member.raw_password, Member.objects.get(pk=member.id).password)


def test_a_new_password_must_have_eight_characters(member_client, member):
    response = member_client.put(
        f"/member/members/{member.id}",
        {"password": "short", "currentPassword": member.raw_password}, format="json",
    )

    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_a_password_change_revokes_the_members_other_tokens(client_for, member):
    current, elsewhere = client_for(member), client_for(member)

    current.put(f"/member/members/{member.id}",
                {"password": "brand-new-pass", "currentPassword": member.raw_password}, format="json")

    assert current.get(f"/member/members/{member.id}").status_code == 200
    assert elsewhere.get(f"/member/members/{member.id}").status_code == 401
    assert get_token_model().objects.filter(user=member).count() == 1


def test_a_name_change_does_not_touch_the_password_or_tokens(client_for, member):
    current, elsewhere = client_for(member), client_for(member)

    current.put(f"/member/members/{member.id}", {"name": "Renamed"}, format="json")

    assert elsewhere.get(f"/member/members/{member.id}").status_code == 200
    assert check_password(member.raw_password, Member.objects.get(pk=member.id).password)


def test_email_and_role_cannot_be_changed_through_put(member_client, member):
    response = member_client.put(f"/member/members/{member.id}",
                                 {"email": "new@example.com", "role": "seller"}, format="json")

    assert response.status_code == 200
    assert response.json()["email"] == member.email
    assert response.json()["role"] == "buyer"
