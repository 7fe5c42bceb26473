from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from helpdesk.client_address import client_ip

from .principals import Principal
from .ratelimit import RateLimit


class CredentialRateThrottle(SimpleRateThrottle):
    """Requests per credential (API key, agent, customer), else per client address.

    Counted in the database (``accounts.ratelimit``), one statement per request: exact
    across every worker and machine (DRF's own throttle reads and rewrites a list in the
    cache, so concurrent requests on several workers overwrite each other's hits), and
    unaffected by a cache outage.

    The rate is read from ``settings.API_THROTTLE_RATE`` on each request rather than from
    DRF's class-level copy of ``DEFAULT_THROTTLE_RATES``, so a changed setting (a deploy,
    or ``override_settings`` in a test) takes effect without re-importing this module.
    """

    scope = "credential"

    def get_rate(self):
        return getattr(settings, "API_THROTTLE_RATE", None) or super().get_rate()

    def get_cache_key(self, request, view):
        if isinstance(request.auth, Principal):
            return f"credential:{request.auth.credential_id}"
        return f"address:{client_ip(request)}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        limit = RateLimit("api", limit=self.num_requests, window_seconds=self.duration)
        self.window = limit.record(self.get_cache_key(request, view))
        return self.window.count <= self.num_requests

    def wait(self):
        return self.window.seconds_left
