from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks and events"

    def ready(self):
        # Webhooks are one more subscriber of the domain events (tickets/events.py).
        from . import subscribers

        subscribers.register()
