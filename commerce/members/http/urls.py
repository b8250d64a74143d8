"""Mounted under ``member/`` by config/urls.py."""
from django.urls import path

from commerce.members.http import views

app_name = "members"

urlpatterns = [
    path("registration", views.MemberRegistrationApi.as_view(), name="registration"),
    path("login", views.MemberLoginApi.as_view(), name="login"),
    path("logout", views.MemberLogoutApi.as_view(), name="logout"),
    path("members/<uuid:userId>", views.MemberDetailApi.as_view(), name="detail"),
]
