from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from commerce.eventbus.models import OutboxEvent
from commerce.members import services
from commerce.members.events import MemberRegistered
from commerce.members.models import Member
from commerce.shared.errors import Conflict, NotFound, Unauthorized

pytestmark = pytest.mark.django_db


def register(**overrides):
    arguments = {"email": "kim@example.com", "password": "s3cret-pass", "display_name": "Kim",
                 "role": "seller"}
    arguments.update(overrides)
    return services.member_register(**arguments)


def test_registration_stores_the_member_and_publishes_member_registered():
    member = register()

    assert Member.objects.filter(pk=member.id, email="kim@example.com", role="seller").exists()
    event = OutboxEvent.objects.get(name=MemberRegistered.name)
    assert event.aggregate_id == str(member.id)
    assert event.payload["email"] == "kim@example.com"
    assert event.payload["display_name"] == "Kim"
    assert event.payload["role"] == "seller"
    assert event.payload["aggregate_id"] == str(member.id)


def test_the_member_and_its_event_commit_or_roll_back_together():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        register()
        assert OutboxEvent.objects.filter(name=MemberRegistered.name).count() == 1
        raise Abort

    assert not Member.objects.exists()
    assert not OutboxEvent.objects.filter(name=MemberRegistered.name).exists()


def test_no_member_is_stored_when_its_event_cannot_be_written():
    with mock.patch.object(services, "publish", side_effect=RuntimeError("outbox down")), \
            pytest.raises(RuntimeError):
        register()

    assert not Member.objects.exists()


def test_a_duplicate_registration_publishes_nothing():
    register()

    with pytest.raises(Conflict):
        register(email="KIM@example.com")

    assert Member.objects.count() == 1
    assert OutboxEvent.objects.filter(name=MemberRegistered.name).count() == 1


def test_a_registration_that_loses_the_race_for_an_email_is_a_conflict():
    # given another sign-up that commits the address right after our existence check
    original_filter = Member.objects.filter
    calls = {"count": 0}

    def racing_filter(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] == 1:
            Member.objects.create_user(email="kim@example.com", password="x" * 8, name="Racer")
            return original_filter(pk=None)
        return original_filter(*args, **kwargs)

    with mock.patch.object(Member.objects, "filter", side_effect=racing_filter), pytest.raises(Conflict):
        register()

    assert OutboxEvent.objects.filter(name=MemberRegistered.name).count() == 0


def test_the_database_rejects_a_mixed_case_email():
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.bulk_create([Member(email="Kim@example.com", name="Kim")])


def test_login_with_bad_credentials_raises_unauthorized(member):
    with pytest.raises(Unauthorized):
        services.member_login(email=member.email, password="wrong-password")


def test_update_of_someone_else_is_not_found(member, make_member):
    other = make_member()

    with pytest.raises(NotFound):
        services.member_update(member_id=other.id, requester_id=member.id, name="x")
