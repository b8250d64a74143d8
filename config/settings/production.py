"""Production: everything from the environment, nothing insecure by default."""
import os

from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# The carrier's webhook secret has a local-only default in base.py: production must set its own.
DELIVERY = {**DELIVERY, "CARRIER_WEBHOOK_SECRET": os.environ["CARRIER_WEBHOOK_SECRET"]}  # noqa: F405
