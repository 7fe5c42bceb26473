"""Webhooks never reach where they must not: checked when saved, and again at send time
after resolving the name (DNS rebinding), connecting only to the address that was checked."""

import socket

import pytest

from tickets.tests import factories
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import transport


@pytest.fixture
def production(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def dns(monkeypatch):
    """Names resolve to what the test says, and every lookup is counted."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        if host in answers:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]
            ]
        if host.endswith(".test") or host.endswith(".internal"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(transport.socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://localhost/hooks", "loopback"),
        ("https://[::1]/hooks", "loopback"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://172.16.0.9/hooks", "private"),
        ("https://192.168.1.20/hooks", "private"),
        ("https://[fd12::1]/hooks", "private"),
        ("https://169.254.10.10/hooks", "link-local"),
        ("https://[fe80::1]/hooks", "link-local"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
        ("https://100.100.100.200/latest/meta-data/", "cloud metadata"),
        ("https://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
        ("https://0.0.0.0/hooks", "non-public"),
        ("https://private.test/hooks", "private"),  # a name that resolves to a private address
    ],
)
def test_a_url_that_leads_to_a_forbidden_address_is_a_400_naming_url(api, production, dns, url, why):
    dns[0]["private.test"] = ["10.9.8.7"]
    response = api.post("/api/v1/webhooks", {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400
    (detail,) = response.json()["details"]
    assert detail["field"] == "url"
    assert why in detail["message"]
    assert not WebhookEndpoint.objects.exists()


def test_in_production_a_url_must_be_https(api, production):
    response = api.post(
        "/api/v1/webhooks", {"url": "http://hooks.example.com/x", "events": ["*"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "url", "message": "Webhook URLs must use https."}]


def test_a_patch_to_a_forbidden_url_is_refused_and_changes_nothing(api, production, dns):
    dns[0]["hooks.test"] = ["93.184.216.34"]
    created = api.post("/api/v1/webhooks", {"url": "https://hooks.test/x", "events": ["*"]}, format="json")
    assert created.status_code == 201
    response = api.patch(
        f"/api/v1/webhooks/{created.json()['id']}", {"url": "https://169.254.169.254/"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "url"
    assert WebhookEndpoint.objects.get().url == "https://hooks.test/x"


def test_a_name_that_points_somewhere_private_after_it_was_saved_is_not_sent_to(
    api, api_key, inbox, production, dns, delivering
):
    answers, _ = dns
    answers["rebind.test"] = ["93.184.216.34"]
    assert (
        api.post(
            "/api/v1/webhooks", {"url": "https://rebind.test/x", "events": ["*"]}, format="json"
        ).status_code
        == 201
    )
    answers["rebind.test"] = ["127.0.0.1"]  # DNS rebinding, after the check at save time
    with delivering():
        factories.make_ticket(inbox)
    attempts = [delivery.attempt_log.get() for delivery in WebhookDelivery.objects.all()]
    assert attempts and all(attempt.status_code is None for attempt in attempts)
    assert all(
        attempt.error == "Not sent: rebind.test resolves to a loopback address (127.0.0.1)."
        for attempt in attempts
    )


def test_an_answer_mixing_a_public_and_a_private_address_is_refused_whole(
    api, inbox, production, dns, delivering
):
    answers, _ = dns
    answers["mixed.test"] = ["93.184.216.34"]
    api.post("/api/v1/webhooks", {"url": "https://mixed.test/x", "events": ["*"]}, format="json")
    answers["mixed.test"] = ["93.184.216.34", "169.254.169.254"]
    with delivering():
        factories.make_ticket(inbox)
    error = WebhookDelivery.objects.first().attempt_log.get().error
    assert error == "Not sent: mixed.test resolves to a cloud metadata address (169.254.169.254)."


def test_the_connection_goes_to_the_address_that_was_checked_with_one_lookup_per_try(
    api, inbox, receiver, dns, delivering
):
    answers, lookups = dns
    port = receiver.server.server_address[1]
    answers["receiver.test"] = ["127.0.0.1"]  # allowed here: tests run with loopback receivers
    api.post(
        "/api/v1/webhooks",
        {"url": f"http://receiver.test:{port}/x", "events": ["ticket.created"]},
        format="json",
    )
    lookups.clear()
    with delivering():
        factories.make_ticket(inbox)
    assert len(receiver.received) == 1
    assert receiver.received[0].headers["Host"] == f"receiver.test:{port}"
    # The connection itself names the checked address: no second lookup of the name.
    assert [host for host in lookups if host != "127.0.0.1"] == ["receiver.test"]


def test_the_operator_setting_allows_loopback_receivers(api, settings, receiver):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    response = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["*"]}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
    ],
)
def test_forbidden_addresses_are_named(address):
    assert transport.forbidden_reason(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert transport.forbidden_reason(address) is None
