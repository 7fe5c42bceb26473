"""What each event says: {type, id, timestamp, actor, data: {ticket: <the native API's
ticket>, ...}}, whichever face made the change."""

import pytest
from rest_framework.test import APIClient

from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.tests import factories

SUPPORTDESK_CREATE = "/compat/supportdesk/api/v1/tickets/api-create"


@pytest.fixture
def subscribed(api_key, receiver, make_endpoint):
    """An endpoint for every event type, internal notes included; returns the receiver."""
    make_endpoint(api_key, receiver.url, events=["*"], include_internal_notes=True)
    return receiver


def of_type(receiver, event_type: str) -> list[dict]:
    return [payload for payload in receiver.payloads if payload["type"] == event_type]


def test_the_payload_carries_the_ticket_exactly_as_the_native_api_shows_it(api, subscribed, delivering):
    with delivering():
        created = api.post(
            "/api/v1/tickets",
            {
                "customer": {"email": "jane@example.com"},
                "subject": "Refund",
                "message": "Hi",
                "tags": ["billing"],
            },
            format="json",
        ).json()
    (payload,) = of_type(subscribed, "ticket.created")
    assert list(payload) == ["type", "id", "timestamp", "actor", "data"]
    assert payload["timestamp"].endswith("Z")
    listed = api.get("/api/v1/tickets?customer_email=jane@example.com").json()["data"][0]
    assert payload["data"]["ticket"] == listed
    assert {key: created[key] for key in listed} == listed


def test_ticket_updated_says_each_changed_field_before_and_after(api, subscribed, agent, delivering):
    with delivering():
        ticket = api.post(
            "/api/v1/tickets",
            {"customer": {"email": "jane@example.com"}, "subject": "Refund", "message": "Hi"},
            format="json",
        ).json()
        api.patch(
            f"/api/v1/tickets/{ticket['id']}",
            {"priority": "urgent", "tags": ["vip"], "assignee": agent.email, "subject": "Refund now"},
            format="json",
        )

    (updated,) = of_type(subscribed, "ticket.updated")
    changes = updated["data"]["changes"]
    assert changes["priority"] == {"before": "normal", "after": "urgent"}
    assert changes["subject"] == {"before": "Refund", "after": "Refund now"}
    assert changes["tags"] == {"before": [], "after": ["vip"]}
    assert changes["assignee"] == {
        "before": None,
        "after": {"id": agent.pk, "name": "Alice Agent", "email": "agent@acme.test"},
    }
    assert changes["status"] == {"before": "open", "after": "in_progress"}
    (assigned,) = of_type(subscribed, "ticket.assigned")
    assert assigned["data"]["after"]["email"] == agent.email and assigned["data"]["before"] is None
    (status_changed,) = of_type(subscribed, "ticket.status_changed")
    assert (status_changed["data"]["before"], status_changed["data"]["after"]) == ("open", "in_progress")


def test_message_created_carries_the_message_and_internal_notes_only_when_asked(
    api, api_key, subscribed, other_receiver, make_endpoint, delivering
):
    make_endpoint(api_key, other_receiver.url, events=["message.created"])  # no notes
    with delivering():
        ticket = api.post(
            "/api/v1/tickets",
            {"customer": {"email": "jane@example.com"}, "subject": "Refund", "message": "Hi"},
            format="json",
        ).json()
        api.post(f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Public **reply**"}, format="json")
        api.post(
            f"/api/v1/tickets/{ticket['id']}/messages", {"body": "Secret note", "kind": "note"}, format="json"
        )

    kinds = [payload["data"]["message"]["kind"] for payload in of_type(subscribed, "message.created")]
    assert kinds == ["reply", "note"]
    assert [payload["data"]["message"]["kind"] for payload in other_receiver.payloads] == ["reply"]
    message = other_receiver.payloads[0]["data"]["message"]
    assert message["body"] == "Public **reply**"
    assert "<strong>reply</strong>" in message["body_html"]
    assert other_receiver.payloads[0]["data"]["ticket"]["id"] == ticket["id"]


def test_customer_events_carry_the_customer_and_its_changes(api, subscribed, delivering):
    with delivering():
        customer = api.post(
            "/api/v1/customers",
            {"email": "jane@example.com", "external_id": "u-1", "name": "Jane"},
            format="json",
        ).json()
        api.patch(f"/api/v1/customers/{customer['id']}", {"name": "Jane Doe"}, format="json")

    (created,) = of_type(subscribed, "customer.created")
    assert created["data"]["customer"]["id"] == customer["id"]
    assert "ticket" not in created["data"]
    (updated,) = of_type(subscribed, "customer.updated")
    assert updated["data"]["changes"]["name"] == {"before": "Jane", "after": "Jane Doe"}
    assert updated["data"]["customer"]["name"] == "Jane Doe"


def test_an_agents_change_names_the_agent_as_actor(inbox, agent, subscribed, delivering):
    ticket = factories.make_ticket(inbox)
    with delivering():
        ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), priority="high")
    (updated,) = of_type(subscribed, "ticket.updated")
    assert updated["actor"] == {"type": "agent", "id": agent.pk, "name": "Alice Agent"}


def test_a_ticket_made_through_a_dialect_emits_the_same_events(
    api, api_key, organization, inbox, subscribed, delivering
):
    ticket_services.upsert_customer(
        organization=organization,
        data=ticket_services.CustomerData(email="john@acme.com", external_id="user_42", name="John"),
    )
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    with delivering():
        response = client.post(
            SUPPORTDESK_CREATE,
            {
                "customerExternalId": "user_42",
                "subject": "Payment failed",
                "description": "Payment attempt failed with CARD_DECLINED.",
                "priority": "HIGH",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    (created,) = of_type(subscribed, "ticket.created")
    native = api.get(f"/api/v1/tickets/{created['data']['ticket']['id']}").json()
    assert created["data"]["ticket"]["subject"] == "Payment failed"
    assert created["data"]["ticket"]["reference"] == native["reference"]
    assert created["data"]["ticket"]["channel"] == native["channel"]
