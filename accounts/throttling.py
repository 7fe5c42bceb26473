import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .principals import Principal

logger = logging.getLogger(__name__)


class CredentialRateThrottle(SimpleRateThrottle):
    """Requests per credential (API key, agent, customer), else per client address.

    The rate is read from ``settings.API_THROTTLE_RATE`` on each request rather than from
    DRF's class-level copy of ``DEFAULT_THROTTLE_RATES``, so a changed setting (a deploy,
    or ``override_settings`` in a test) takes effect without re-importing this module.
    """

    scope = "credential"

    def get_rate(self):
        return getattr(settings, "API_THROTTLE_RATE", None) or super().get_rate()

    def get_cache_key(self, request, view):
        if isinstance(request.auth, Principal):
            ident = request.auth.credential_id
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        # Fail open: with the cache (Redis) down, requests go through unthrottled and the
        # error is logged, rather than every API call failing with a 500.
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.exception("API throttle unavailable (cache error); allowing the request")
            return True
