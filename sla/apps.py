from django.apps import AppConfig


class SlaConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sla"
    verbose_name = "Service levels"

    def ready(self):
        # SLA clocks are one more subscriber of the domain events (tickets/events.py).
        from . import subscribers

        subscribers.register()
