"""The mailer behind SUPPORT_EMAIL_SENDER=none: email is switched off on purpose.

Helpdesk itself records no deliveries in this mode (tickets are only stored); anything
else that tries to send (Django's password reset, ``mail_admins``) is dropped with a
warning in the log, so the choice is visible without failing. Being our own class rather
than Django's dummy backend, it does not trip ``check --deploy``'s development-backend
error for a setup that deliberately sends no email.
"""

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class DisabledEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            logger.warning(
                "Email is switched off (SUPPORT_EMAIL_SENDER=none); not sent: %r to %s",
                message.subject,
                ", ".join(message.recipients()),
            )
        return 0
