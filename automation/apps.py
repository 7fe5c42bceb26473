from django.apps import AppConfig


class AutomationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "automation"
    verbose_name = "Automation: triggers and macros"

    def ready(self):
        # Triggers are one more subscriber of the domain events (tickets/events.py).
        from . import subscribers

        subscribers.register()
