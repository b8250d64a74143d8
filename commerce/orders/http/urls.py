"""Mounted under ``order/`` by config/urls.py."""
from django.urls import path

from commerce.orders.http import views

app_name = "orders"

urlpatterns = [
    path("process-order", views.OrderPlaceApi.as_view(), name="process-order"),
    path("orders", views.OrderListApi.as_view(), name="order-list"),
    path("orders/<uuid:orderId>", views.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<uuid:orderId>/cancel", views.OrderCancelApi.as_view(), name="order-cancel"),
]
