"""Who may write to the catalog over HTTP: authenticated members whose role is ``seller``."""
from __future__ import annotations

from rest_framework.permissions import BasePermission

SELLER_ROLE = "seller"  # a member's role, as the members context names it (see members.api)


class IsSeller(BasePermission):
    """No token: 401 (DRF turns a refusal without credentials into NotAuthenticated); a buyer: 403."""

    message = "Only sellers may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and getattr(user, "role", None) == SELLER_ROLE)
