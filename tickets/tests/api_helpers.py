"""Small helpers shared by the native API tests."""

import re

REQUEST_ID = re.compile(r"^req_[0-9a-f]{24}$")


def ticket_payload(**overrides) -> dict:
    payload = {
        "customer": {"email": "jane@example.com", "name": "Jane Doe"},
        "subject": "Refund please",
        "message": "I was charged twice for my subscription.",
    }
    payload.update(overrides)
    return payload


def assert_error(response, status_code: int, field: str | None = None) -> dict:
    """The response is ``status_code`` in the one error shape, naming ``field`` if given."""
    assert response.status_code == status_code, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "code", "details", "request_id"}, body
    assert body["code"] == status_code
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)
    assert body["request_id"] == response["X-Request-ID"]
    for detail in body["details"]:
        assert set(detail) == {"field", "message"}
    if field is not None:
        assert field in [detail["field"] for detail in body["details"]], body
    return body
