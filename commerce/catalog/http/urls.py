"""Mounted under ``catalog/`` by config/urls.py."""
from django.urls import path

from commerce.catalog.http import views

app_name = "catalog"

urlpatterns = [
    path("products", views.ProductCreateApi.as_view(), name="product-create"),
    path("products/<uuid:productId>", views.ProductDetailApi.as_view(), name="product-detail"),
    path("change-inventory-count", views.InventoryChangeApi.as_view(), name="change-inventory-count"),
]
