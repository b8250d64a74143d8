import pytest
from django.contrib.auth.models import Group
from django.test import Client

from commerce.catalog import services
from commerce.catalog.admin import SELLERS_GROUP
from commerce.catalog.models import Product, Stock, StockMovement
from commerce.catalog.store import product_store
from commerce.eventbus.models import OutboxEvent
from commerce.shared.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS = "/admin/catalog/product/"
MOVEMENTS = "/admin/catalog/stockmovement/"


@pytest.fixture
def make_admin_seller(make_member):
    group, _ = Group.objects.get_or_create(name=SELLERS_GROUP)

    def make(name="Admin Seller"):
        seller = make_member(role="seller", name=name, is_staff=True)
        seller.groups.add(group)
        return seller

    return make


@pytest.fixture
def admin_seller(make_admin_seller):
    return make_admin_seller()


def logged_in(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def form_data(**overrides) -> dict:
    return {"name": "Desk Lamp", "description": "Warm light.", "price": "35000", "currency": "KRW",
            "category": "home", "attributes": '{"watts": 8}', "active": "on", **overrides}


def test_a_seller_sees_only_their_own_products(admin_seller, make_admin_seller, make_product):
    make_product(admin_seller, name="My Lamp", stock=4)
    make_product(make_admin_seller("Rival"), name="Rival Chair")

    response = logged_in(admin_seller).get(PRODUCTS)

    assert response.status_code == 200
    page = response.content.decode()
    assert "My Lamp" in page
    assert "Rival Chair" not in page


def test_a_seller_cannot_open_another_sellers_product(admin_seller, make_admin_seller, make_product):
    theirs = make_product(make_admin_seller("Rival"), name="Rival Chair", description="Secret description")

    response = logged_in(admin_seller).get(f"{PRODUCTS}{theirs.product_id}/change/", follow=True)

    page = response.content.decode()
    assert response.redirect_chain and response.redirect_chain[0][1] == 302
    assert "Rival Chair" not in page and "Secret description" not in page


def test_a_seller_cannot_change_another_sellers_product(admin_seller, make_admin_seller, make_product):
    theirs = make_product(make_admin_seller("Rival"), name="Rival Chair", stock=2)

    logged_in(admin_seller).post(f"{PRODUCTS}{theirs.product_id}/change/",
                                 form_data(name="Hijacked", stock_delta="-2", stock_reason="x"))

    assert product_store().get(theirs.product_id).name == "Rival Chair"
    assert Stock.objects.get(product_id=theirs.product_id).on_hand == 2


def test_a_seller_adds_a_product_through_the_services(admin_seller):
    response = logged_in(admin_seller).post(f"{PRODUCTS}add/", {**form_data(), "stock": "6"})

    assert response.status_code == 302
    product = Product.objects.get(seller_id=admin_seller.id)
    document = product_store().get(product.id)
    assert (document.name, str(document.price), document.attributes) == ("Desk Lamp", "35000.00", {"watts": 8})
    assert OutboxEvent.objects.filter(name="catalog.product_changed", aggregate_id=str(product.id)).exists()
    [movement] = StockMovement.objects.filter(product_id=product.id)
    assert (movement.on_hand_delta, movement.actor_id) == (6, admin_seller.id)
    assert response["Location"] == f"{PRODUCTS}"


def test_the_add_form_rejects_what_the_api_rejects(admin_seller):
    response = logged_in(admin_seller).post(f"{PRODUCTS}add/", {**form_data(attributes='["a"]', price="-1"),
                                                                  "stock": "0"})

    assert response.status_code == 200  # the form again, with errors
    assert response.context["adminform"].form.errors.keys() >= {"attributes", "price"}
    assert not Product.objects.exists()


def test_the_change_form_shows_the_stored_details(admin_seller, make_product):
    doc = make_product(admin_seller, name="My Lamp", description="Warm light.")

    response = logged_in(admin_seller).get(f"{PRODUCTS}{doc.product_id}/change/")

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["name"] == "My Lamp"
    assert form.initial["description"] == "Warm light."


def test_a_seller_changes_details_and_stock_in_the_admin(admin_seller, make_product):
    doc = make_product(admin_seller, name="My Lamp", stock=4)

    response = logged_in(admin_seller).post(f"{PRODUCTS}{doc.product_id}/change/", form_data(
        name="My Better Lamp", price="12900.00", stock_delta="3", stock_reason="found in the back room"))

    assert response.status_code == 302
    assert product_store().get(doc.product_id).name == "My Better Lamp"
    assert Product.objects.get(id=doc.product_id).version == 2
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 7
    movement = StockMovement.objects.filter(product_id=doc.product_id).latest("id")
    assert (movement.on_hand_delta, movement.reason, movement.actor_id) == (
        3, "found in the back room", admin_seller.id)


def test_a_stock_only_change_leaves_the_product_version_alone(admin_seller, make_product):
    doc = make_product(admin_seller, name="Desk Lamp", description="Warm light.", price="35000", category="home",
                       attributes={"watts": 8}, stock=4)

    logged_in(admin_seller).post(f"{PRODUCTS}{doc.product_id}/change/",
                                 form_data(stock_delta="-1", stock_reason="broken"))

    assert Product.objects.get(id=doc.product_id).version == 1
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 3


def test_a_stock_change_below_zero_is_refused_in_the_form(admin_seller, make_product):
    doc = make_product(admin_seller, stock=2)

    response = logged_in(admin_seller).post(f"{PRODUCTS}{doc.product_id}/change/",
                                            form_data(stock_delta="-3", stock_reason="audit"))

    assert response.status_code == 200
    assert "stock_delta" in response.context["adminform"].form.errors
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 2


def test_products_cannot_be_deleted(admin_seller, make_product):
    doc = make_product(admin_seller)

    response = logged_in(admin_seller).post(f"{PRODUCTS}{doc.product_id}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Product.objects.filter(id=doc.product_id).exists()


def test_a_seller_sees_the_ledger_of_their_own_products_only(admin_seller, make_admin_seller, make_product):
    mine = make_product(admin_seller, name="My Lamp", stock=4)
    theirs = make_product(make_admin_seller("Rival"), name="Rival Chair", stock=9)

    response = logged_in(admin_seller).get(MOVEMENTS)

    assert response.status_code == 200
    shown = {movement.product_id for movement in response.context["cl"].result_list}
    assert shown == {mine.product_id}
    assert theirs.product_id not in shown


def test_a_superuser_sees_every_product_read_only(make_member, admin_seller, make_admin_seller, make_product):
    superuser = make_member(is_staff=True, is_superuser=True)
    mine = make_product(admin_seller, name="My Lamp")
    make_product(make_admin_seller("Rival"), name="Rival Chair")
    client = logged_in(superuser)

    page = client.get(PRODUCTS).content.decode()
    detail = client.get(f"{PRODUCTS}{mine.product_id}/change/")

    assert "My Lamp" in page and "Rival Chair" in page
    assert detail.status_code == 200 and "My Lamp" in detail.content.decode()
    assert client.post(f"{PRODUCTS}{mine.product_id}/change/", form_data(name="X")).status_code == 403
    assert product_store().get(mine.product_id).name == "My Lamp"


def test_a_buyer_cannot_reach_the_admin(member):
    response = logged_in(member).get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_staff_seller_outside_the_sellers_group_has_no_catalog_admin(make_member, make_product):
    seller = make_member(role="seller", is_staff=True)
    make_product(seller, name="My Lamp")

    response = logged_in(seller).get(PRODUCTS)

    assert response.status_code == 403
    assert "My Lamp" not in response.content.decode()


def test_a_service_refusal_after_the_form_was_valid_undoes_the_whole_change(admin_seller, make_product,
                                                                            monkeypatch):
    doc = make_product(admin_seller, name="My Lamp", stock=4)

    def refuse(**kwargs):
        raise Conflict("Changed by someone else meanwhile.")

    monkeypatch.setattr(services, "product_update", refuse)
    client = logged_in(admin_seller)
    url = f"{PRODUCTS}{doc.product_id}/change/"

    response = client.post(url, form_data(name="Renamed", stock_delta="5", stock_reason="restock"))

    assert response.status_code == 302 and response["Location"] == url
    assert "Changed by someone else meanwhile." in client.get(url).content.decode()
    assert Stock.objects.get(product_id=doc.product_id).on_hand == 4
    assert StockMovement.objects.filter(product_id=doc.product_id).count() == 1
