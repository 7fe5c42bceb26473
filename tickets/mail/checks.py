"""Deployment checks for email: an open inbound webhook is a way to write into tickets."""

from django.conf import settings
from django.core.checks import Warning as CheckWarning


def check_inbound_webhook_secret(app_configs=None, **kwargs):
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    if settings.INBOUND_EMAIL_DOMAIN and not anymail.get("WEBHOOK_SECRET"):
        return [
            CheckWarning(
                "INBOUND_EMAIL_DOMAIN is set but ANYMAIL_WEBHOOK_SECRET is not: anyone can post "
                "inbound email to /anymail/<provider>/inbound/.",
                hint="Set ANYMAIL_WEBHOOK_SECRET=user:password and put it in the webhook URL "
                "(docs/deploy.md, Inbound email).",
                id="tickets.W001",
            )
        ]
    return []
