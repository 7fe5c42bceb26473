"""Settings → Webhooks: who may open each page, the secret shown once, the delivery log."""

import pytest
from django.test import Client
from django.urls import reverse

from tickets.actors import Actor
from tickets.tests import factories
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint


@pytest.fixture
def endpoint(organization, owner, receiver):
    endpoint, _ = services.create_endpoint(
        organization=organization, actor=Actor.agent(owner), url=receiver.url, events=["ticket.created"]
    )
    return endpoint


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages(endpoint) -> list[tuple[str, str]]:
    delivery_id = "0" * 26
    return [
        ("get", reverse("webhooks-dashboard:list")),
        ("post", reverse("webhooks-dashboard:list")),
        ("get", reverse("webhooks-dashboard:detail", args=[endpoint.public_id])),
        ("post", reverse("webhooks-dashboard:detail", args=[endpoint.public_id])),
        ("post", reverse("webhooks-dashboard:rotate", args=[endpoint.public_id])),
        ("post", reverse("webhooks-dashboard:test", args=[endpoint.public_id])),
        ("post", reverse("webhooks-dashboard:delete", args=[endpoint.public_id])),
        ("post", reverse("webhooks-dashboard:redeliver", args=[endpoint.public_id, delivery_id])),
    ]


def test_an_agent_gets_403_on_every_webhook_page_and_changes_nothing(endpoint, agent):
    client = signed_in(agent)
    for method, url in pages(endpoint):
        assert getattr(client, method)(url).status_code == 403, url
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_anonymous_is_sent_to_sign_in(endpoint):
    for method, url in pages(endpoint):
        response = getattr(Client(), method)(url)
        assert response.status_code == 302 and "/accounts/login" in response["Location"], url


def test_another_organizations_owner_gets_404_for_this_endpoint(endpoint, other_organization, other_inbox):
    other_owner = factories.make_agent(other_organization, email="owner@globex.test", role="owner")
    client = signed_in(other_owner)
    for method, url in pages(endpoint)[2:]:
        assert getattr(client, method)(url).status_code == 404, url
    assert endpoint.url not in client.get(reverse("webhooks-dashboard:list")).content.decode()


def test_wrong_methods_are_refused(endpoint, owner):
    client = signed_in(owner)
    assert client.get(reverse("webhooks-dashboard:rotate", args=[endpoint.public_id])).status_code == 405
    assert client.delete(reverse("webhooks-dashboard:list")).status_code == 405


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(organization, owner, receiver):
    client = signed_in(owner)
    assert "Webhooks" in client.get(reverse("dashboard:settings-inboxes")).content.decode()
    response = client.post(
        reverse("webhooks-dashboard:list"),
        {"url": receiver.url, "events": ["ticket.created", "message.created"], "active": "on"},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["ticket.created", "message.created"]
    assert endpoint.secret in response.content.decode()
    # Never stored by a browser or a proxy: the secret is on this page once.
    assert {"no-store", "private"} <= {part.strip() for part in response["Cache-Control"].split(",")}
    detail = client.get(reverse("webhooks-dashboard:detail", args=[endpoint.public_id])).content.decode()
    assert endpoint.secret not in detail
    assert receiver.url in client.get(reverse("webhooks-dashboard:list")).content.decode()


def test_an_admin_may_manage_webhooks_too(organization, receiver):
    admin = factories.make_agent(organization, email="admin@acme.test", role="admin")
    response = signed_in(admin).post(
        reverse("webhooks-dashboard:list"), {"url": receiver.url, "events": ["*"]}
    )
    assert response.status_code == 200
    assert WebhookEndpoint.objects.get().events == ["*"]


def test_a_bad_url_shows_the_error_on_the_field_and_saves_nothing(owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = signed_in(owner).post(
        reverse("webhooks-dashboard:list"), {"url": "http://169.254.169.254/latest", "events": ["*"]}
    )
    assert response.status_code == 200
    assert "cloud metadata" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_editing_rotating_testing_and_redelivering(endpoint, owner, receiver, delivering):
    client = signed_in(owner)
    detail_url = reverse("webhooks-dashboard:detail", args=[endpoint.public_id])
    response = client.post(detail_url, {"url": receiver.url, "events": ["*"], "description": "Backend"})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["*"] and endpoint.description == "Backend"
    assert endpoint.active is False  # an unticked box is "off", as a browser sends it

    with delivering():
        client.post(detail_url, {"url": receiver.url, "events": ["*"], "active": "on"})
    old_secret = endpoint.secret
    refused = client.post(reverse("webhooks-dashboard:rotate", args=[endpoint.public_id]))
    assert refused.status_code == 302
    rotated = client.post(reverse("webhooks-dashboard:rotate", args=[endpoint.public_id]), {"confirm": "on"})
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.secret in rotated.content.decode()
    assert endpoint.signing_secrets() == [endpoint.secret, old_secret]

    with delivering():
        client.post(reverse("webhooks-dashboard:test", args=[endpoint.public_id]))
    assert receiver.types == ["ping"]
    delivery = WebhookDelivery.objects.get()
    page = client.get(detail_url).content.decode()
    assert "ping" in page and "HTTP 200" in page and delivery.event.public_id in page

    with delivering():
        client.post(reverse("webhooks-dashboard:redeliver", args=[endpoint.public_id, delivery.public_id]))
    assert receiver.types == ["ping", "ping"]

    client.post(reverse("webhooks-dashboard:delete", args=[endpoint.public_id]))
    assert not WebhookEndpoint.objects.exists()


def test_the_detail_page_costs_the_same_few_queries_for_many_deliveries(
    endpoint, owner, inbox, delivering, django_assert_max_num_queries
):
    with delivering():
        for _ in range(5):
            factories.make_ticket(inbox)
    client = signed_in(owner)
    url = reverse("webhooks-dashboard:detail", args=[endpoint.public_id])
    client.get(url)
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.content.decode().count("ticket.created") >= 5
