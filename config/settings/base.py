"""Settings shared by every environment. Everything that differs comes from environment variables."""
import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cassandra.io.asyncioreactor import AsyncioConnection
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


SECRET_KEY = env("DJANGO_SECRET_KEY", "local-development-only-not-a-secret")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django_cassandra_engine",  # first, as it asks: it replaces migrate/makemigrations for Cassandra
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "commerce.eventbus",
    "commerce.shared",
    "commerce.members",
    "commerce.catalog",
    "commerce.search",
    "commerce.orders",
    "commerce.payments",
    "commerce.delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # static files (admin, API docs) straight from the web server process, with DEBUG off
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False
# plain requests to the hottest endpoints answered around the middleware and DRF
# (commerce/shared/http/fastpath.py, wired in config/wsgi.py); 0 sends everything the full way
WEB_FAST_PATHS = env_bool("WEB_FAST_PATHS", True)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Local defaults: the PostgreSQL, Redis and Cassandra that scripts/services.sh starts, on the ports
# it reads too (PG_PORT, REDIS_PORT, CASSANDRA_PORT), so a second checkout can run its own stack.
PG_PORT = env_int("PG_PORT", 55432)
REDIS_PORT = env_int("REDIS_PORT", 56379)
SEARCH_REDIS_PORT = env_int("SEARCH_REDIS_PORT", 56380)

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"postgres://commerce:commerce@127.0.0.1:{PG_PORT}/commerce"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
# Parameters bound by the server, and a statement run DATABASE_PREPARE_THRESHOLD times on one
# connection is prepared there (psycopg), so PostgreSQL stops parsing and planning it on every run.
# Django turns psycopg's preparing off unless prepare_threshold is set (for transaction-mode
# connection poolers such as PgBouncer before 1.21: set DATABASE_PREPARE_THRESHOLD=0 behind one).
DATABASES["default"]["OPTIONS"] = {
    "server_side_binding": env_bool("DATABASE_SERVER_SIDE_BINDING", True),
    "prepare_threshold": env_int("DATABASE_PREPARE_THRESHOLD", 5) or None,
}
# Django's PostgreSQL backend, with a connection health check that polls the socket instead of
# sending SELECT 1 before every request (commerce/shared/postgresql/base.py)
DATABASES["default"]["ENGINE"] = "commerce.shared.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cassandra (product documents): the local node of scripts/cassandra.sh. Replication is one JSON
# object: SimpleStrategy RF 1 for the single local node; a real cluster uses e.g.
# {"strategy_class": "NetworkTopologyStrategy", "dc1": 3} (see docs/cassandra.md).
DATABASES["cassandra"] = {
    "ENGINE": "django_cassandra_engine",
    "NAME": env("CASSANDRA_KEYSPACE", "commerce"),
    "HOST": env("CASSANDRA_HOSTS", "127.0.0.1"),
    "OPTIONS": {
        "replication": json.loads(env("CASSANDRA_REPLICATION",
                                      '{"strategy_class": "SimpleStrategy", "replication_factor": 1}')),
        "connection": {
            "port": env_int("CASSANDRA_PORT", 59042),
            # token-aware routing to a replica of the row, in the local data centre
            "load_balancing_policy": TokenAwarePolicy(
                DCAwareRoundRobinPolicy(local_dc=env("CASSANDRA_LOCAL_DC", "datacenter1"))),
            # the default libev reactor often hangs a process for 5 s at exit; asyncio does not
            "connection_class": AsyncioConnection,
            # with the asyncio reactor, protocol v5 framing broke long full scans (CRC mismatch on a
            # header after ~49,000 rows, see docs/search.md); v4 scans cleanly
            "protocol_version": 4,
            # connect on first use, after uWSGI/Celery have forked their workers
            "lazy_connect": True,
            "retry_connect": True,
            "connect_timeout": 5,
        },
    },
}

REDIS_URL = env("REDIS_URL", f"redis://127.0.0.1:{REDIS_PORT}/0")
# the search index (commerce/search): its own Redis instance (scripts/services.sh), so broker churn
# never makes Redis snapshot gigabytes of index, and a broker flush does not touch it
SEARCH_REDIS_URL = env("SEARCH_REDIS_URL", f"redis://127.0.0.1:{SEARCH_REDIS_PORT}/0")
# a rebuild ends by waiting for an RDB snapshot of the new index (when the instance takes snapshots)
SEARCH_SNAPSHOT_AFTER_REBUILD = env_bool("SEARCH_SNAPSHOT_AFTER_REBUILD", True)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("CACHE_URL", f"redis://127.0.0.1:{REDIS_PORT}/1"),
        "KEY_PREFIX": "commerce",
    }
}

AUTH_USER_MODEL = "members.Member"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"
# serve from the apps' static folders too, so nothing breaks before `collectstatic` has run
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    # knox tokens sent as "Authorization: Bearer <token>" (see commerce/members/http/authentication.py)
    "DEFAULT_AUTHENTICATION_CLASSES": ["commerce.members.http.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "commerce.shared.http.exceptions.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "NON_FIELD_ERRORS_KEY": "nonFieldErrors",
    # failed logins per account (email) and per client address (commerce/members/http/throttling.py)
    "DEFAULT_THROTTLE_RATES": {
        "login_account": env("LOGIN_THROTTLE_ACCOUNT_RATE", "5/min"),
        "login_address": env("LOGIN_THROTTLE_ADDRESS_RATE", "20/min"),
    },
    # proxies in front of the app that append to X-Forwarded-For; 0 trusts only REMOTE_ADDR
    "NUM_PROXIES": env_int("DRF_NUM_PROXIES", 0),
}

REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(seconds=env_int("AUTH_TOKEN_TTL_SECONDS", 24 * 3600)),
    "AUTO_REFRESH": False,
}
# How long a token's owner is remembered in the cache (commerce/members/tokens.py); revocation
# deletes the entry at once, deactivation or a role change in the admin may lag this long.
MEMBERS_TOKEN_CACHE_SECONDS = env_int("MEMBERS_TOKEN_CACHE_SECONDS", 30)

# GET /health: name -> check function (commerce/shared/health.py); each must answer within the timeout.
HEALTH_CHECKS = {
    "database": "commerce.shared.health.check_database",
    "redis": "commerce.shared.health.check_redis",
    "cassandra": "commerce.shared.health.check_cassandra",
}
HEALTH_CHECK_TIMEOUT_SECONDS = float(env("HEALTH_CHECK_TIMEOUT_SECONDS", "1.0"))

SPECTACULAR_SETTINGS = {
    "TITLE": "Commerce API",
    "DESCRIPTION": "Modular-monolith shop backend: members, catalog, search, orders, payments, delivery.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # fully offline docs: no call to the public swagger.io validator
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery: Redis is the broker; the database (the outbox) is the source of truth.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "eventbus"
# Celery's Django fixup closes every database connection before and after each task unless this
# is set; reconnecting cost about a fifth of a saga worker's time (measured with py-spy). Connections
# are still closed after this many tasks, and Django's CONN_MAX_AGE and health checks still apply.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)

# Event bus knobs (see commerce/eventbus/README.md).
EVENTBUS = {
    "RELAY_BATCH_SIZE": env_int("EVENTBUS_RELAY_BATCH_SIZE", 1000),
    "PARTITIONS": env_int("EVENTBUS_PARTITIONS", 2),
    "RELAY_INTERVAL_SECONDS": float(env("EVENTBUS_RELAY_INTERVAL_SECONDS", "1.0")),
    "KICK_WINDOW_MS": env_int("EVENTBUS_KICK_WINDOW_MS", 100),
    # Celery worker processes relay their own commits' events, at most once per this many ms per
    # thread (0: they kick the relay like everyone else); see commerce/eventbus/signals.py
    "INLINE_RELAY_MS": env_int("EVENTBUS_INLINE_RELAY_MS", 20),
    # a delivery task then delivers up to this many of the dispatches its handler's events made
    # for the worker's own queues itself (0: sends them all to the broker)
    "INLINE_DELIVERY_STEPS": env_int("EVENTBUS_INLINE_DELIVERY_STEPS", 8),
    "DELIVERY_DEADLINE_SECONDS": env_int("EVENTBUS_DELIVERY_DEADLINE_SECONDS", 30),
    "MAX_ATTEMPTS": env_int("EVENTBUS_MAX_ATTEMPTS", 5),
    "MAX_SWEEPS": env_int("EVENTBUS_MAX_SWEEPS", 10),
    # a stream that falls behind: how many events one delivery may take from the dispatches queued
    # after its own (handlers with max_batch use that instead)
    "CATCH_UP_EVENTS": env_int("EVENTBUS_CATCH_UP_EVENTS", 200),
    "RETRY_BASE_SECONDS": float(env("EVENTBUS_RETRY_BASE_SECONDS", "2.0")),
    "RETENTION_HOURS": env_int("EVENTBUS_RETENTION_HOURS", 72),
    # extra modules whose import subscribes handlers (tests and benchmarks use this for probes)
    "EXTRA_HANDLER_MODULES": [m for m in env("EVENTBUS_EXTRA_HANDLER_MODULES", "").split(",") if m],
}

# Background work gives way while the web tier is overloaded (commerce/shared/pressure.py): web
# workers report how many connections wait in the listen queue; from more than ENGAGE waiting until
# fewer than RELEASE, Celery tasks and payment processors sleep FACTOR times their own work (at most
# MAX_PAUSE_MS at a time). ENGAGE 0 turns it off.
PRESSURE = {
    "ENGAGE": float(env("PRESSURE_ENGAGE", "16")),
    "RELEASE": float(env("PRESSURE_RELEASE", "4")),
    "FACTOR": float(env("PRESSURE_FACTOR", "20")),
    "MAX_PAUSE_MS": env_int("PRESSURE_MAX_PAUSE_MS", 2000),
    "REPORT_MS": env_int("PRESSURE_REPORT_MS", 200),
    "FRESH_MS": env_int("PRESSURE_FRESH_MS", 1000),
    "READ_CACHE_MS": env_int("PRESSURE_READ_CACHE_MS", 100),
}

# Where product documents live (see commerce/catalog/store.py).
CATALOG_PRODUCT_STORE = env("CATALOG_PRODUCT_STORE", "commerce.catalog.cassandra_store.CassandraProductStore")

CELERY_BEAT_SCHEDULE = {
    "eventbus-relay": {"task": "eventbus.relay", "schedule": EVENTBUS["RELAY_INTERVAL_SECONDS"],
                       "options": {"queue": "eventbus", "expires": 10}},
    "eventbus-sweep": {"task": "eventbus.sweep", "schedule": 5.0, "options": {"queue": "eventbus", "expires": 30}},
    "eventbus-prune": {"task": "eventbus.prune", "schedule": 3600.0, "options": {"queue": "eventbus"}},
    "orders-check-deadlines": {"task": "orders.check_deadlines", "schedule": 15.0,
                               "options": {"queue": "orders", "expires": 60}},
}

# Orders (commerce/orders): bounds of one order and the saga's deadlines. The payment deadline
# must lie beyond the payments context's own (PAYMENTS "DEADLINE_SECONDS", 30 min by default), so
# that a gateway outage payments is riding out does not fail orders; see docs/orders.md.
ORDERS = {
    "MAX_LINES": env_int("ORDERS_MAX_LINES", 50),
    "MAX_QUANTITY": env_int("ORDERS_MAX_QUANTITY", 100),
    # PENDING, waiting for the catalog's answer about stock
    "STOCK_DEADLINE_SECONDS": env_int("ORDERS_STOCK_DEADLINE_SECONDS", 300),
    # PENDING with stock reserved, waiting for the payment's outcome
    "PAYMENT_DEADLINE_SECONDS": env_int("ORDERS_PAYMENT_DEADLINE_SECONDS", 2400),
    # once overdue: send the request again this many times, this far apart, then fail the order
    "STALL_RETRIES": env_int("ORDERS_STALL_RETRIES", 1),
    "STALL_RETRY_SECONDS": env_int("ORDERS_STALL_RETRY_SECONDS", 300),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# --- Delivery (commerce/delivery): the carrier adapter and its worker -----------------------------
# The local carrier simulator (simulators/carrier.py) listens on CARRIER_PORT; a real carrier is
# another adapter class. The webhook secret's default is for local use only: set
# CARRIER_WEBHOOK_SECRET (the same value the carrier signs with) anywhere else.
DELIVERY = {
    "CARRIER_ADAPTER": env("DELIVERY_CARRIER_ADAPTER", "commerce.delivery.carrier.HttpCarrier"),
    "CARRIER_URL": env("CARRIER_URL", f"http://127.0.0.1:{env_int('CARRIER_PORT', 58102)}"),
    "CARRIER_WEBHOOK_SECRET": env("CARRIER_WEBHOOK_SECRET", "local-only-carrier-webhook-secret"),
    "CARRIER_CONNECT_TIMEOUT_SECONDS": float(env("CARRIER_CONNECT_TIMEOUT_SECONDS", "2.0")),
    "CARRIER_READ_TIMEOUT_SECONDS": float(env("CARRIER_READ_TIMEOUT_SECONDS", "5.0")),
    # backoff of a carrier call that failed: base * 2^(attempts-1), at most max, +-20 % jitter; never given up
    "CARRIER_RETRY_BASE_SECONDS": float(env("CARRIER_RETRY_BASE_SECONDS", "1.0")),
    "CARRIER_RETRY_MAX_SECONDS": float(env("CARRIER_RETRY_MAX_SECONDS", "300.0")),
    # a claimed call not finished by then (worker died) is claimed again; must exceed the timeouts
    "CARRIER_LEASE_SECONDS": float(env("CARRIER_LEASE_SECONDS", "30.0")),
    "CARRIER_SYNC_BATCH": env_int("CARRIER_SYNC_BATCH", 50),
    "CARRIER_SYNC_MAX_SECONDS": float(env("CARRIER_SYNC_MAX_SECONDS", "20.0")),
    # carrier event ids kept to recognise repeated webhooks; older ones are deleted hourly
    "CARRIER_EVENT_RETENTION_DAYS": env_int("CARRIER_EVENT_RETENTION_DAYS", 30),
}
CELERY_BEAT_SCHEDULE["delivery-carrier-events-prune"] = {
    "task": "delivery.carrier_events_prune", "schedule": 3600.0, "options": {"queue": "delivery", "expires": 600},
}
CELERY_BEAT_SCHEDULE["delivery-carrier-sync"] = {
    "task": "delivery.carrier_sync", "schedule": float(env("CARRIER_SYNC_INTERVAL_SECONDS", "2.0")),
    "options": {"queue": "carrier_sync", "expires": 10},
}
# --- payments (commerce/payments/README.md, docs/payments.md) ----------------------------------
# The gateway adapter and where it lives (the local simulator: simulators/gateway.py on GATEWAY_PORT).
GATEWAY_PORT = env_int("GATEWAY_PORT", 58101)
PAYMENTS = {
    "GATEWAY_CLASS": env("PAYMENTS_GATEWAY_CLASS", "commerce.payments.gateway.HttpGateway"),
    "GATEWAY_URL": env("PAYMENTS_GATEWAY_URL", f"http://127.0.0.1:{GATEWAY_PORT}"),
    "GATEWAY_CONNECT_TIMEOUT_SECONDS": float(env("PAYMENTS_GATEWAY_CONNECT_TIMEOUT_SECONDS", "1.0")),
    "GATEWAY_TIMEOUT_SECONDS": float(env("PAYMENTS_GATEWAY_TIMEOUT_SECONDS", "5.0")),
    # a payment still unsettled this long after it was requested becomes FAILED (GATEWAY_UNAVAILABLE)
    "DEADLINE_SECONDS": float(env("PAYMENTS_DEADLINE_SECONDS", "1800")),
    # "processing error" answers before a payment is FAILED (PROCESSING_ERROR)
    "MAX_PROCESSING_ERRORS": env_int("PAYMENTS_MAX_PROCESSING_ERRORS", 3),
    "RETRY_BASE_SECONDS": float(env("PAYMENTS_RETRY_BASE_SECONDS", "1.0")),
    "RETRY_MAX_SECONDS": float(env("PAYMENTS_RETRY_MAX_SECONDS", "15.0")),
    # the processor: gateway calls in flight per process, how long a claim is held, how many run at once
    "MAX_IN_FLIGHT": env_int("PAYMENTS_MAX_IN_FLIGHT", 256),
    "LEASE_SECONDS": float(env("PAYMENTS_LEASE_SECONDS", "60")),
    "PROCESSORS": env_int("PAYMENTS_PROCESSORS", 2),
    "PROCESSOR_MAX_SECONDS": float(env("PAYMENTS_PROCESSOR_MAX_SECONDS", "60")),
    "PROCESSOR_IDLE_SECONDS": float(env("PAYMENTS_PROCESSOR_IDLE_SECONDS", "5")),
    "POLL_SECONDS": float(env("PAYMENTS_POLL_SECONDS", "0.1")),
    # circuit breaker state (shared by every processor process)
    "REDIS_URL": env("PAYMENTS_REDIS_URL", REDIS_URL),
    "BREAKER_FAILURES": env_int("PAYMENTS_BREAKER_FAILURES", 10),
    "BREAKER_WINDOW_SECONDS": float(env("PAYMENTS_BREAKER_WINDOW_SECONDS", "30")),
    "BREAKER_OPEN_SECONDS": float(env("PAYMENTS_BREAKER_OPEN_SECONDS", "5")),
}
# httpx logs every request at INFO; the gateway adapter's calls are counted, not logged one by one
LOGGING.setdefault("loggers", {})["httpx"] = {"level": "WARNING"}
# The processor loop (payments.process) has its own queue and worker (Procfile "payments"): a loop
# holds its worker slot while it works, which must not starve the event bus on the shared worker.
CELERY_BEAT_SCHEDULE["payments-process"] = {
    "task": "payments.process", "schedule": 1.0, "options": {"queue": "payments_processor", "expires": 2}}
