"""Bearer-token authentication: django-rest-knox tokens sent as ``Authorization: Bearer <token>``.

The header keyword comes from ``REST_KNOX["AUTH_HEADER_PREFIX"]``. This subclass only hardens
knox: a token that is not ASCII is a 401 rather than a crash, and a request checks the expiry of
its own token instead of loading all of the member's tokens (``member_login`` sweeps those), and
a token seen a moment ago is answered from the cache (``commerce/members/tokens.py``).
"""
from __future__ import annotations

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from rest_framework.exceptions import AuthenticationFailed

from commerce.members import tokens


class BearerTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        try:
            digest = hash_token(token.decode("ascii"))
        except (UnicodeDecodeError, TypeError, ValueError):
            raise AuthenticationFailed("Invalid token.") from None
        remembered = tokens.recall(digest)
        if remembered is not None:
            return self.validate_user(remembered[1])
        member, auth_token = super().authenticate_credentials(token)
        tokens.remember(auth_token)
        return member, auth_token

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class BearerTokenScheme(KnoxTokenScheme):
    """OpenAPI: document the subclass like knox's own class (HTTP bearer)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"
