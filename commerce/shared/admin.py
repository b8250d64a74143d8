"""Admin pieces every context may use."""
from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through their context's services (with their events): the admin
    shows them and never adds, changes or deletes one."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
