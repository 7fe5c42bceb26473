"""Request headers that several faces read the same way."""

IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(request) -> str:
    """The caller's Idempotency-Key as sent; the services check and namespace it."""
    return request.headers.get(IDEMPOTENCY_HEADER, "")
