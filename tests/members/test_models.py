import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_the_user_model_is_member_with_a_uuid_primary_key():
    model = get_user_model()

    assert model._meta.label == "members.Member"
    assert model._meta.pk.get_internal_type() == "UUIDField"


def test_create_user_normalizes_the_email_and_hashes_the_password():
    member = get_user_model().objects.create_user(email=" Ann@Example.COM", password="pass-word-1",
                                                  name="Ann")

    assert member.email == "ann@example.com"
    assert member.password.startswith("argon2$")
    assert member.check_password("pass-word-1")
    assert member.role == "buyer"
    assert not member.is_staff


def test_create_superuser_is_staff_and_superuser():
    admin = get_user_model().objects.create_superuser(email="root@example.com", password="pass-word-1",
                                                      name="Root")

    assert admin.is_staff and admin.is_superuser


def test_members_are_found_by_email_in_any_case():
    get_user_model().objects.create_user(email="ann@example.com", password="pass-word-1", name="Ann")

    assert get_user_model().objects.get_by_natural_key("ANN@example.com").email == "ann@example.com"


def test_the_admin_lists_members(client, make_member):
    admin = get_user_model().objects.create_superuser(email="root@example.com", password="pass-word-1",
                                                      name="Root")
    make_member(email="listed@example.com")
    client.force_login(admin)

    response = client.get("/admin/members/member/")

    assert response.status_code == 200
    assert b"listed@example.com" in response.content
