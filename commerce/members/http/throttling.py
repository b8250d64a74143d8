"""Login throttles: failed logins per account (email) and per client address.

Only failures count, so members who type their password right are never slowed down, however
many of them share an address; a guesser is stopped after ``login_account`` failures on one
account or ``login_address`` failures from one address (rates in
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``). While throttled, even a correct password gets 429.
The history lives in the Django cache (Redis), shared by every web process.
"""
from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from commerce.members.models import normalize_email


class LoginFailureThrottle(SimpleRateThrottle):
    def get_rate(self):
        # read at request time (DRF binds the rates at import), so settings overrides apply
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.history = self._recent(self.key)
        return len(self.history) < self.num_requests

    def wait(self) -> float:
        # allowed again once the failure that filled the window ages out
        blocking = self.history[min(self.num_requests, len(self.history)) - 1]
        return max(0.0, blocking + self.duration - self.now)

    def record_failure(self, request, view) -> None:
        key = self.get_cache_key(request, view)
        if self.rate is None or key is None:
            return
        self.now = self.timer()
        history = [self.now, *self._recent(key)][: self.num_requests]
        self.cache.set(key, history, self.duration)

    def record_success(self, request, view) -> None:
        """Nothing by default: an address keeps its failures when one of its members logs in."""

    def _recent(self, key: str) -> list[float]:
        return [moment for moment in self.cache.get(key, []) if moment > self.now - self.duration]


class LoginAccountThrottle(LoginFailureThrottle):
    scope = "login_account"

    def get_cache_key(self, request, view) -> str | None:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(normalize_email(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def record_success(self, request, view) -> None:
        key = self.get_cache_key(request, view)
        if key is not None:
            self.cache.delete(key)


class LoginAddressThrottle(LoginFailureThrottle):
    scope = "login_address"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
