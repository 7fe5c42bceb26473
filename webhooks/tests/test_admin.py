"""Admin: endpoints through the services (the secret shown once), deliveries and events read-only."""

import pytest
from django.urls import reverse

from accounts.models import User
from tickets.tests import factories
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint


@pytest.fixture
def staff(db):
    return User.objects.create_superuser(email="staff@helpdesk.test", password="x")


def test_staff_add_an_endpoint_and_see_the_secret_once(staff_client, organization, receiver):
    response = staff_client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"organization": organization.pk, "url": receiver.url, "events": ["ticket.created"], "active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    page = staff_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret not in page.content.decode()


def test_changelists_load_with_few_queries(
    staff_client, api_key, inbox, receiver, make_endpoint, delivering, django_assert_max_num_queries
):
    make_endpoint(api_key, receiver.url)
    with delivering():
        for _ in range(4):
            factories.make_ticket(inbox)
    for name in ("webhookendpoint", "webhookdelivery", "event"):
        with django_assert_max_num_queries(12):
            response = staff_client.get(reverse(f"admin:webhooks_{name}_changelist"))
        assert response.status_code == 200, name
    delivery = WebhookDelivery.objects.first()
    assert (
        staff_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])).status_code
        == 200
    )
    event = Event.objects.first()
    page = staff_client.get(reverse("admin:webhooks_event_change", args=[event.pk])).content.decode()
    assert event.public_id in page


def test_the_redeliver_action_sends_again(staff_client, api_key, inbox, receiver, make_endpoint, delivering):
    make_endpoint(api_key, receiver.url, events=["ticket.created"])
    with delivering():
        factories.make_ticket(inbox)
    delivery = WebhookDelivery.objects.get()
    with delivering():
        staff_client.post(
            reverse("admin:webhooks_webhookdelivery_changelist"),
            {"action": "redeliver", "_selected_action": [delivery.pk]},
        )
    assert len(receiver.received) == 2
