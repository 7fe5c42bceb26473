"""Secrets out of logs: the URLs that carry a secret in their path or query.

A ticket's private link (``/t/<ticket>/<access key>/...``), a portal sign-in link
(``/t/portal/<organization>/signin/<token>/``), a support-address verification link
(``/desk/verify-address/<token>/``) and Django's password reset link
(``/accounts/reset/<user>/<token>/``) each let whoever holds them in. Request and access
logs are read by more people and kept longer than the links live, so both the shipped
gunicorn configuration (``RedactingGunicornLogger``) and Django's loggers
(``RedactSecretsFilter``, in settings.LOGGING) write ``[redacted]`` in their place, and
the value of query parameters with a secret's name.
"""

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "[redacted]"

_PATH_SECRETS = [
    # /t/portal/<slug>/signin/<token>/ before the private link pattern below.
    re.compile(r"(/t/portal/[^/\s?\"]+/signin/)[^/\s?\"]+"),
    # A private link: /t/<26-character ticket id>/<access key>
    re.compile(r"(/t/[0-9A-Za-z]{26}/)[^/\s?\"]+"),
    re.compile(r"(/desk/verify-address/)[^/\s?\"]+"),
    re.compile(r"(/accounts/reset/[^/\s?\"]+/)[^/\s?\"]+"),
]
_QUERY_SECRET = re.compile(
    r"([?&](?:access_key|api_key|key|token|secret|password|signature|code)=)[^&\s\"#]*", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with every secret-bearing part of a URL replaced by ``[redacted]``."""
    if not text or not isinstance(text, str):
        return text
    for pattern in _PATH_SECRETS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return _QUERY_SECRET.sub(rf"\g<1>{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """For Django's loggers (``django.request`` logs "Not Found: <path>", ``django.server``
    the request line): the message is formatted once, then redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's access log with the request line, path, query, referer and every other
    atom redacted (``logger_class`` in gunicorn.conf.py)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
