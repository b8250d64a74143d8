import importlib

from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import autodiscover_modules


class EventbusConfig(AppConfig):
    name = "commerce.eventbus"
    label = "eventbus"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # every context's events.py registers its event classes (needed to decode them) and its
        # handlers.py subscribes its handlers, when imported
        autodiscover_modules("events", "handlers")
        for module in settings.EVENTBUS.get("EXTRA_HANDLER_MODULES", ()):
            importlib.import_module(module)
        from celery.signals import worker_process_init

        from commerce.eventbus import signals

        worker_process_init.connect(signals.worker_started, weak=False)
