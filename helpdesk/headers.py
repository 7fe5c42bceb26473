"""Headers that several faces read or answer the same way."""

IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_key(request) -> str:
    """The caller's Idempotency-Key as sent; the services check and namespace it."""
    return request.headers.get(IDEMPOTENCY_HEADER, "")


REPLAYED_HEADER = "Idempotent-Replayed"


def replay_headers(created: bool) -> dict[str, str]:
    """The headers of a create's 201: a retry answered from its Idempotency-Key says so."""
    return {} if created else {REPLAYED_HEADER: "true"}
