"""Test settings: the same real PostgreSQL and Redis as local, on their own Redis databases."""
from config.settings.base import *  # noqa: F403
from config.settings.base import PASSWORD_HASHERS, REDIS_PORT, SEARCH_REDIS_PORT, env

# Argon2 stays the hasher (tests check it); a cheaper cost profile keeps the suite quick.
PASSWORD_HASHERS = ["commerce.members.hashers.FastArgon2PasswordHasher", *PASSWORD_HASHERS]

# Keep test traffic away from what `make up` is running: other Redis databases.
REDIS_URL = env("TEST_REDIS_URL", f"redis://127.0.0.1:{REDIS_PORT}/8")
CELERY_BROKER_URL = REDIS_URL
SEARCH_REDIS_URL = env("TEST_SEARCH_REDIS_URL", f"redis://127.0.0.1:{SEARCH_REDIS_PORT}/10")
# the instance may hold a developer's big index in db 0: tests that rebuild do not snapshot it
SEARCH_SNAPSHOT_AFTER_REBUILD = False
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("TEST_CACHE_URL", f"redis://127.0.0.1:{REDIS_PORT}/9"),
        "KEY_PREFIX": "commerce-test",
    }
}

# no collected static files in tests; WhiteNoise serves from the apps (finders) instead
STATIC_ROOT = None

# Cassandra: a keyspace of its own (tests empty its tables).
DATABASES["cassandra"]["NAME"] = env("TEST_CASSANDRA_KEYSPACE", "commerce_test")  # noqa: F405

# Delivery: quick carrier retries and short timeouts, so outage tests finish in seconds.
DELIVERY = {**DELIVERY, "CARRIER_RETRY_BASE_SECONDS": 0.2, "CARRIER_RETRY_MAX_SECONDS": 2.0,  # noqa: F405
            "CARRIER_READ_TIMEOUT_SECONDS": 1.0, "CARRIER_LEASE_SECONDS": 5.0}
CELERY_BEAT_SCHEDULE["delivery-carrier-sync"]["schedule"] = 0.5  # noqa: F405
# Payments: the breaker on the test Redis database; short waits so outage tests take seconds.
PAYMENTS = {  # noqa: F405
    **PAYMENTS,  # noqa: F405
    "REDIS_URL": env("PAYMENTS_REDIS_URL", REDIS_URL),
    "GATEWAY_TIMEOUT_SECONDS": float(env("PAYMENTS_GATEWAY_TIMEOUT_SECONDS", "1.0")),
    "RETRY_BASE_SECONDS": float(env("PAYMENTS_RETRY_BASE_SECONDS", "0.1")),
    "RETRY_MAX_SECONDS": float(env("PAYMENTS_RETRY_MAX_SECONDS", "0.5")),
    "BREAKER_OPEN_SECONDS": float(env("PAYMENTS_BREAKER_OPEN_SECONDS", "0.5")),
    "LEASE_SECONDS": float(env("PAYMENTS_LEASE_SECONDS", "10")),
    "PROCESSOR_IDLE_SECONDS": float(env("PAYMENTS_PROCESSOR_IDLE_SECONDS", "1")),
    "POLL_SECONDS": float(env("PAYMENTS_POLL_SECONDS", "0.05")),
}
