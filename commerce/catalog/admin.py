"""Django admin for sellers: their own products and stock, written through the catalog services.

A seller gets in when they are a member with role ``seller``, ``is_staff`` and in the Django
group ``sellers`` (see README.md); access does not depend on Django model permissions. Sellers
see and change only their own products. Superusers see every product and the whole stock
ledger, read-only: the services let only a product's seller change it.

The product's details live in the product store, not in ``catalog_product``, so the product form
has no model fields: it loads the document from the store and saves through
``services.product_create`` / ``product_update`` / ``stock_change`` (events and ledger included).
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from commerce.catalog import rules, selectors, services
from commerce.catalog.http.permissions import SELLER_ROLE
from commerce.catalog.http.serializers import attribute_problems
from commerce.catalog.models import Product, StockMovement
from commerce.catalog.store import ProductDoc, product_store
from commerce.shared.admin import ReadOnlyAdmin
from commerce.shared.errors import DomainError

SELLERS_GROUP = "sellers"
PRODUCT_FIELDS = ["name", "description", "price", "currency", "category", "attributes", "active"]


def is_catalog_seller(user) -> bool:
    """A staff member with the seller role in the ``sellers`` group (the group lookup is cached
    on the user object, which lives for one request)."""
    if not (user.is_active and user.is_staff and getattr(user, "role", None) == SELLER_ROLE):
        return False
    if not hasattr(user, "_catalog_seller"):
        user._catalog_seller = user.groups.filter(name=SELLERS_GROUP).exists()
    return user._catalog_seller


def _may_use_catalog_admin(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (user.is_superuser or is_catalog_seller(user))


class PageChangeList(ChangeList):
    """Lets the admin decorate the objects of the page being shown with one read for all of them."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        self.model_admin.decorate_page(self.result_list)


class ProductAdminForm(forms.ModelForm):
    name = forms.CharField(max_length=rules.NAME_MAX)
    description = forms.CharField(max_length=rules.DESCRIPTION_MAX, required=False, widget=forms.Textarea)
    price = forms.DecimalField(max_digits=14, decimal_places=2, min_value=rules.PRICE_MIN, max_value=rules.PRICE_MAX)
    currency = forms.ChoiceField(choices=[(c, c) for c in rules.CURRENCIES], initial=rules.DEFAULT_CURRENCY)
    category = forms.ChoiceField(choices=[("", "---------"), *((c, c) for c in rules.CATEGORIES)])
    attributes = forms.JSONField(required=False, initial=dict,
                                 help_text="A JSON object, e.g. {\"color\": \"black\", \"sizes\": [\"S\", \"M\"]}.")
    active = forms.BooleanField(required=False, initial=True, help_text="Untick to take the product off sale.")
    stock = forms.IntegerField(min_value=0, max_value=rules.STOCK_MAX, initial=0, help_text="Initial stock on hand.")
    stock_delta = forms.IntegerField(
        required=False, min_value=-rules.STOCK_DELTA_MAX, max_value=rules.STOCK_DELTA_MAX, label="Stock change",
        help_text="Added to the stock on hand (negative takes away); leave empty for no change.",
    )
    stock_reason = forms.CharField(required=False, max_length=rules.REASON_MAX, label="Reason for the stock change")

    class Meta:
        model = Product
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.document: ProductDoc | None = None
        if self.instance._state.adding:
            for name in ("stock_delta", "stock_reason"):
                self.fields.pop(name, None)
            return
        self.fields.pop("stock", None)
        self.document = product_store().get(self.instance.pk)
        if self.document is not None:
            for name in PRODUCT_FIELDS:
                self.initial[name] = getattr(self.document, name)

    def clean_attributes(self):
        attributes = self.cleaned_data.get("attributes")
        if attributes is None:
            return {}
        problems = attribute_problems(attributes)
        if problems:
            raise forms.ValidationError(problems)
        return attributes

    def clean(self):
        cleaned = super().clean()
        if self.instance._state.adding:
            return cleaned
        if self.document is None:
            raise forms.ValidationError("This product's details are not in the product store yet; try again shortly.")
        delta = cleaned.get("stock_delta")
        if delta:
            if not cleaned.get("stock_reason"):
                self.add_error("stock_reason", "Say why the stock changes.")
            level = selectors.stock_levels([self.instance.pk]).get(self.instance.pk)
            available = level.available if level else 0
            if available + delta < 0:
                self.add_error("stock_delta",
                               f"Only {available} available; a change of {delta} would make it negative.")
        return cleaned

    def product_changed(self) -> bool:
        return any(name in self.changed_data for name in PRODUCT_FIELDS)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["product_name", "available_stock", "version", "created_at"]
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    readonly_fields = ["id", "seller_id", "version", "created_at", "stock_levels", "document"]

    # --- who may do what ----------------------------------------------------------------------

    def get_queryset(self, request):
        products = super().get_queryset(request)
        if request.user.is_superuser:
            return products
        return products.filter(seller_id=request.user.id)

    def has_module_permission(self, request) -> bool:
        return _may_use_catalog_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not _may_use_catalog_admin(request):
            return False
        return obj is None or request.user.is_superuser or obj.seller_id == request.user.id

    def has_add_permission(self, request) -> bool:
        return is_catalog_seller(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_catalog_seller(request.user) and (obj is None or obj.seller_id == request.user.id)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # products are taken off sale (active = false), never deleted

    # --- pages --------------------------------------------------------------------------------

    def get_list_display(self, request):
        if request.user.is_superuser:
            return [*self.list_display, "seller_id"]
        return self.list_display

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": [*PRODUCT_FIELDS, "stock"]})]
        identity = ["id", "seller_id", "version", "created_at"]
        if not self.has_change_permission(request, obj):
            return [("Product", {"fields": [*identity, "document"]}), ("Stock", {"fields": ["stock_levels"]})]
        return [
            ("Product", {"fields": [*identity, *PRODUCT_FIELDS]}),
            ("Stock", {"fields": ["stock_levels", "stock_delta", "stock_reason"]}),
        ]

    def get_changelist(self, request, **kwargs):
        return PageChangeList

    def decorate_page(self, products: list[Product]) -> None:
        ids = [product.id for product in products]
        documents = product_store().get_many(ids)
        levels = selectors.stock_levels(ids)
        for product in products:
            product.document = documents.get(product.id)
            level = levels.get(product.id)
            product.available = level.available if level else 0

    @admin.display(description="name")
    def product_name(self, product: Product) -> str:
        document = getattr(product, "document", None)
        if document is None:
            return "(details not stored yet)"
        return document.name if document.active else f"{document.name} (off sale)"

    @admin.display(description="available")
    def available_stock(self, product: Product) -> int:
        return getattr(product, "available", 0)

    @admin.display(description="stock")
    def stock_levels(self, product: Product) -> str:
        level = selectors.stock_levels([product.id]).get(product.id)
        if level is None:
            return "-"
        return f"{level.available} available, {level.reserved} reserved"

    @admin.display(description="details")
    def document(self, product: Product) -> str:
        document = product_store().get(product.id)
        if document is None:
            return "(not stored yet)"
        rows = [(name, getattr(document, name)) for name in PRODUCT_FIELDS]
        return format_html("<table>{}</table>", format_html_join(
            "", "<tr><th>{}</th><td>{}</td></tr>", rows))

    # --- saving through the services ------------------------------------------------------------

    def save_model(self, request, obj: Product, form: ProductAdminForm, change: bool) -> None:
        data = form.cleaned_data
        details = {name: data[name] for name in PRODUCT_FIELDS if name != "active"}
        if not change:
            doc = services.product_create(seller_id=request.user.id, stock=data["stock"], **details)
            # point the admin's object at the product the service made (log entry, redirect)
            obj.id = doc.product_id
            obj.refresh_from_db()
            obj._state.adding = False
            return
        # stock first: if it is refused, the product store (written by product_update, possibly
        # outside this transaction) has not been touched yet
        if data.get("stock_delta"):
            services.stock_change(product_id=obj.id, actor_id=request.user.id, delta=data["stock_delta"],
                                  reason=data["stock_reason"])
        if form.product_changed():
            services.product_update(product_id=obj.id, actor_id=request.user.id, active=data["active"], **details)
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A service can still refuse after the form was valid (a reservation took the stock in
        # between): the admin's transaction is rolled back by then; say why and show the form again.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.detail, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    """The stock ledger, read-only: a seller sees the movements of their own products."""

    list_display = ["created_at", "product", "kind", "on_hand_delta", "reserved_delta", "reason", "actor_id",
                    "order_id", "request_key"]
    list_filter = ["kind"]
    ordering = ["-id"]
    list_per_page = 100

    def get_queryset(self, request):
        movements = super().get_queryset(request)
        if request.user.is_superuser:
            return movements
        return movements.filter(product_id__in=Product.objects.filter(seller_id=request.user.id).values("id"))

    def has_module_permission(self, request) -> bool:
        return _may_use_catalog_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not _may_use_catalog_admin(request):
            return False
        if obj is None or request.user.is_superuser:
            return True
        return Product.objects.filter(id=obj.product_id, seller_id=request.user.id).exists()

    def get_changelist(self, request, **kwargs):
        return PageChangeList

    def decorate_page(self, movements: list[StockMovement]) -> None:
        documents = product_store().get_many({movement.product_id for movement in movements})
        for movement in movements:
            movement.document = documents.get(movement.product_id)

    @admin.display(description="product")
    def product(self, movement: StockMovement) -> str:
        document = getattr(movement, "document", None)
        return document.name if document else str(movement.product_id)
