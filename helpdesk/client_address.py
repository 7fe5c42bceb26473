"""Where a request came from, for throttles and rate limits."""

from django.conf import settings


def client_ip(request) -> str:
    """The address the request came from.

    Behind our own proxy (``BEHIND_PROXY``, which also sets SECURE_PROXY_SSL_HEADER) the
    last X-Forwarded-For entry is the one that proxy appended; earlier entries are
    whatever the client claimed and are not trusted. Without it, every client behind the
    proxy would share the proxy's address, and one guesser would lock out everyone.
    """
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"
