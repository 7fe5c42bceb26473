"""Deployment checks for email: an open inbound webhook is a way to write into tickets."""

from django.conf import settings
from django.core.checks import Warning as CheckWarning


def check_inbound_webhook_secret(app_configs=None, **kwargs):
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    if settings.INBOUND_EMAIL_WEBHOOK_OPEN:
        return [
            CheckWarning(
                "INBOUND_EMAIL_WEBHOOK_OPEN is on: /anymail/<provider>/inbound/ and /tracking/ "
                "accept posts without credentials, so anyone can write mail into tickets "
                "unless the provider's own signature is checked.",
                hint="Set ANYMAIL_WEBHOOK_SECRET=user:password, put it in the webhook URL and "
                "remove INBOUND_EMAIL_WEBHOOK_OPEN (docs/deploy.md, Inbound email).",
                id="tickets.W001",
            )
        ]
    if settings.INBOUND_EMAIL_DOMAIN and not anymail.get("WEBHOOK_SECRET"):
        return [
            CheckWarning(
                "INBOUND_EMAIL_DOMAIN is set but ANYMAIL_WEBHOOK_SECRET is not: every post to "
                "/anymail/<provider>/inbound/ is refused with 401, so no reply arrives.",
                hint="Set ANYMAIL_WEBHOOK_SECRET=user:password and put it in the webhook URL "
                "(docs/deploy.md, Inbound email).",
                id="tickets.W002",
            )
        ]
    return []
