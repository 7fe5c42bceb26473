"""The real settings as a production environment reads them, plus a real mail backend.

A production deployment configures a mail provider (see docs/deploy.md); with the
console backend the deploy check rightly fails (mail.E001).
"""

from helpdesk.settings import *  # noqa: F403

MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "smtp.example.com", "port": 587, "use_tls": True},
    }
}
