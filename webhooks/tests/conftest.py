"""Webhook tests: a real receiver on loopback, and endpoints made through the API."""

import pytest

from .receiver import Receiver


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(settings):
    """As development: plain http and loopback receivers (production refuses both)."""
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def other_receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def make_endpoint(client_for_key):
    """Register an endpoint through the API; returns its answer (with the secret)."""

    def make(key: str, url: str, events=("*",), **fields) -> dict:
        response = client_for_key(key).post(
            "/api/v1/webhooks", {"url": url, "events": list(events), **fields}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def delivering(django_capture_on_commit_callbacks):
    """Run what the request hands over after commit (events, deliveries), as production does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
