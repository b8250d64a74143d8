"""Mounted under ``delivery/`` by config/urls.py."""
from django.urls import path

from commerce.delivery.http import views

app_name = "delivery"

urlpatterns = [
    path("addresses", views.AddressListCreateApi.as_view(), name="addresses"),
    path("process-delivery", views.ProcessDeliveryApi.as_view(), name="process-delivery"),
    path("deliveries/<uuid:deliveryId>", views.DeliveryDetailApi.as_view(), name="delivery-detail"),
    path("carrier-webhook", views.CarrierWebhookApi.as_view(), name="carrier-webhook"),
]
