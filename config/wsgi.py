"""WSGI entry point for the web server (uWSGI, config/uwsgi.ini): Django, with the fast path of
the hottest endpoints in front of it (commerce/shared/http/fastpath.py), measured by
QueueMeter (commerce/shared/pressure.py)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_application = get_wsgi_application()

from commerce.delivery.http.fast import carrier_webhook_fast  # noqa: E402 - needs Django set up
from commerce.orders.http.fast import order_place_fast  # noqa: E402
from commerce.shared.http.fastpath import FastPaths  # noqa: E402
from commerce.shared.pressure import QueueMeter  # noqa: E402

fast_paths = FastPaths(django_application, {
    ("POST", "/order/process-order"): order_place_fast,
    ("POST", "/delivery/carrier-webhook"): carrier_webhook_fast,
})
# QueueMeter: how many connections wait for a worker, so that background work gives way to an
# overloaded web tier
application = QueueMeter(fast_paths)
