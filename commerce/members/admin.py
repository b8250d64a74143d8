"""Django admin for members: staff look members up, change roles, deactivate accounts.

Members are not added here: buyers and sellers register through the API (which publishes
``MemberRegistered``) and staff accounts come from ``manage.py createsuperuser``.
"""
from django.contrib import admin

from commerce.members.models import Member


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "role", "is_active", "is_staff", "date_joined"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["email", "name"]
    ordering = ["-date_joined"]
    readonly_fields = ["id", "password", "last_login", "date_joined", "updated_at"]
    filter_horizontal = ["groups", "user_permissions"]
    fieldsets = [
        (None, {"fields": ["id", "email", "name", "role", "password"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined", "updated_at"]}),
    ]

    def has_add_permission(self, request) -> bool:
        return False
