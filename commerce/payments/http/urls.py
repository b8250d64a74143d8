"""Mounted under ``payment/`` by config/urls.py."""
from django.urls import path

from commerce.payments.http import views

app_name = "payments"

urlpatterns = [
    path("methods", views.MethodListCreateApi.as_view(), name="methods"),
    path("methods/<uuid:methodId>", views.MethodUpdateApi.as_view(), name="method-update"),
    path("process-payment", views.ProcessPaymentApi.as_view(), name="process-payment"),
    path("payments/<uuid:paymentId>", views.PaymentDetailApi.as_view(), name="payment-detail"),
]
