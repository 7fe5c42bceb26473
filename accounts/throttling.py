from rest_framework.throttling import SimpleRateThrottle

from .principals import Principal


class CredentialRateThrottle(SimpleRateThrottle):
    """Requests per credential (API key, agent, customer), else per client address."""

    scope = "credential"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, Principal):
            ident = request.auth.credential_id
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
