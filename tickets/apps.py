from django.apps import AppConfig


class TicketsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tickets"

    def ready(self):
        from . import subscribers

        subscribers.register()

        # anymail is code we do not own: its inbound webhook tells us through a signal.
        from anymail.signals import inbound

        from .mail.inbound import handle_inbound

        inbound.connect(handle_inbound, dispatch_uid="tickets.mail.inbound")

        from anymail.signals import tracking

        from .mail.tracking import handle_tracking

        tracking.connect(handle_tracking, dispatch_uid="tickets.mail.tracking")

        from django.core import checks

        from .mail.checks import check_inbound_webhook_secret

        checks.register(check_inbound_webhook_secret, checks.Tags.security, deploy=True)
