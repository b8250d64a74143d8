from django.apps import AppConfig


class EventbusConfig(AppConfig):
    name = "commerce.eventbus"
    label = "eventbus"
    default_auto_field = "django.db.models.BigAutoField"
