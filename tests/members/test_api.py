import uuid

import pytest

from commerce.members.api import MemberSummary, member_get_summary

pytestmark = pytest.mark.django_db


def test_the_summary_of_a_member_carries_its_public_facts(seller):
    summary = member_get_summary(seller.id)

    assert summary == MemberSummary(member_id=seller.id, email=seller.email, name="Test Seller",
                                    role="seller", is_active=True, is_staff=False)


def test_the_summary_accepts_a_string_id(member):
    assert member_get_summary(str(member.id)).member_id == member.id


@pytest.mark.parametrize("member_id", [uuid.uuid4(), "not-a-uuid", ""])
def test_there_is_no_summary_for_an_unknown_or_malformed_id(member_id):
    assert member_get_summary(member_id) is None
