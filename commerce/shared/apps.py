from django.apps import AppConfig


class SharedConfig(AppConfig):
    name = "commerce.shared"
    label = "shared"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import task_postrun, task_prerun

        from commerce.shared import pressure

        # Celery tasks give way to an overloaded web tier (pressure.py)
        task_prerun.connect(pressure.task_started, weak=False)
        task_postrun.connect(pressure.task_finished, weak=False)
