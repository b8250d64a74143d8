"""A circuit breaker for the gateway, shared by every processor process through Redis.

closed: calls go through; ``FAILURES`` unavailable answers in a row (no success in between, within
a window) open it. open: nobody calls for ``OPEN_SECONDS``. half-open (the open key expired but the
breaker is still "tripped"): one processor wins the probe key and makes one call; a success closes
the breaker, a failure opens it again. Answers of any kind (approved, declined, processing error)
count as successes: the gateway is up; only timeouts, 5xx and dropped connections count as failures.
"""
from __future__ import annotations

import enum
import time

import redis
from django.conf import settings


class Permit(enum.Enum):
    CLOSED = "closed"  # call as much as you like
    PROBE = "probe"  # make exactly one call, it decides
    OPEN = "open"  # do not call


_FAILURES = """
-- KEYS: failures, open, tripped, probe; ARGV: count, window_ms, threshold, open_ms
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('DEL', KEYS[4])
  return 1
end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n >= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
  redis.call('SET', KEYS[3], '1', 'EX', 86400)
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

_clients: dict[str, redis.Redis] = {}


def redis_client(url: str) -> redis.Redis:
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client


class CircuitBreaker:
    def __init__(self, client: redis.Redis, name: str, *, failures: int, open_seconds: float,
                 window_seconds: float, probe_seconds: float):
        prefix = f"payments:breaker:{name}"
        self.keys = [f"{prefix}:failures", f"{prefix}:open", f"{prefix}:tripped", f"{prefix}:probe"]
        self.client = client
        self.failures, self.open_ms = failures, int(open_seconds * 1000)
        self.window_ms, self.probe_ms = int(window_seconds * 1000), int(probe_seconds * 1000)
        self._script = client.register_script(_FAILURES)

    def permit(self) -> Permit:
        _, open_key, tripped_key, probe_key = self.keys
        is_open, tripped = self.client.exists(open_key), self.client.exists(tripped_key)
        if is_open:
            return Permit.OPEN
        if not tripped:
            return Permit.CLOSED
        if self.client.set(probe_key, str(time.time()), nx=True, px=self.probe_ms):
            return Permit.PROBE
        return Permit.OPEN

    def release_probe(self) -> None:
        """The probe found nothing to call: let the next caller probe at once."""
        self.client.delete(self.keys[3])

    def record(self, *, successes: int, failures: int) -> None:
        if successes:
            self.client.delete(*self.keys)  # the gateway answers: closed
        elif failures:
            self._script(keys=self.keys, args=[failures, self.window_ms, self.failures, self.open_ms])

    def state(self) -> str:
        _, open_key, tripped_key, _ = self.keys
        if self.client.exists(open_key):
            return "open"
        return "half-open" if self.client.exists(tripped_key) else "closed"

    def reset(self) -> None:
        self.client.delete(*self.keys)


def gateway_breaker(name: str = "gateway") -> CircuitBreaker:
    conf = settings.PAYMENTS
    return CircuitBreaker(redis_client(conf["REDIS_URL"]), name, failures=conf["BREAKER_FAILURES"],
                          open_seconds=conf["BREAKER_OPEN_SECONDS"], window_seconds=conf["BREAKER_WINDOW_SECONDS"],
                          probe_seconds=conf["GATEWAY_TIMEOUT_SECONDS"] + 2)
