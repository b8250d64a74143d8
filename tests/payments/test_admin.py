"""The payments admin: superusers read payments and methods; nobody edits them there; the gateway
token is not shown."""
import pytest

from commerce.payments.models import PaymentMethod

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_member):
    admin = make_member(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_a_superuser_reads_methods_without_their_token_and_cannot_change_them(staff_client, add_method, buyer):
    method = add_method(buyer)
    token = PaymentMethod.objects.get(id=method["methodId"]).gateway_token
    listing = staff_client.get("/admin/payments/paymentmethod/")
    assert listing.status_code == 200 and "4242" in listing.content.decode()
    detail = staff_client.get(f"/admin/payments/paymentmethod/{method['methodId']}/change/")
    assert detail.status_code == 200 and token not in detail.content.decode()
    assert staff_client.post(f"/admin/payments/paymentmethod/{method['methodId']}/change/",
                             {"active": ""}).status_code == 403
    assert PaymentMethod.objects.get(id=method["methodId"]).active is True
    assert staff_client.get("/admin/payments/payment/").status_code == 200
    assert staff_client.get("/admin/payments/payment/add/").status_code == 403
