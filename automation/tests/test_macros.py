"""Macros: shared and personal, applied to a ticket (reply and actions), counted."""

import pytest
from rest_framework.test import APIClient

from automation import services
from automation.models import Macro
from tickets.actors import Actor
from tickets.models import Message, TicketEvent
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("Tests")


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(user)[1]}")
    return client


@pytest.fixture
def refund_macro(organization):
    return services.create_macro(
        organization=organization,
        actor=SYSTEM,
        name="Refund sent",
        reply="Hello {{ customer_name }}, your refund for {{ ticket_reference }} is on its way.",
        actions=[{"type": "set_status", "value": "resolved"}, {"type": "add_tags", "value": ["refund"]}],
    )


def test_applying_a_macro_replies_changes_the_ticket_and_counts_the_use(agent, inbox, refund_macro):
    ticket = factories.make_ticket(inbox, name="Jane")
    response = bearer(agent).post(
        f"/api/v1/macros/{refund_macro.pk}/apply", {"ticket": ticket.public_id}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["usage_count"] == 1
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert [tag.name for tag in ticket.tags.all()] == ["refund"]
    reply = ticket.messages.filter(author_type=Message.AuthorType.AGENT).get()
    assert reply.body == f"Hello Jane, your refund for {ticket.reference} is on its way."
    assert reply.author_user == agent
    assert TicketEvent.objects.filter(ticket=ticket, field="status", actor_user=agent).exists()


def test_personal_macros_are_their_owners_only(organization, agent, inbox):
    colleague = factories.make_agent(organization, email="colleague@acme.test")
    response = bearer(agent).post(
        "/api/v1/macros", {"name": "My sign-off", "reply": "Cheers, Alice", "personal": True}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["personal"] is True
    macro_id = response.json()["id"]
    assert [macro["name"] for macro in bearer(agent).get("/api/v1/macros").json()] == ["My sign-off"]
    assert bearer(colleague).get("/api/v1/macros").json() == []
    ticket = factories.make_ticket(inbox)
    assert (
        bearer(colleague).post(f"/api/v1/macros/{macro_id}/apply", {"ticket": ticket.public_id}).status_code
        == 404
    )


def test_shared_macros_are_made_by_owners_and_admins(agent, owner, inbox):
    body = {"name": "Shared", "reply": "Hello"}
    assert_error(bearer(agent).post("/api/v1/macros", body, format="json"), 403)
    assert bearer(owner).post("/api/v1/macros", body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Empty"}, "reply"),
        (
            {"name": "Mail", "actions": [{"type": "email_customer", "template": "acknowledgement"}]},
            "actions[0].type",
        ),
        ({"name": "Bad", "reply": "{% if %}"}, "reply"),
        ({"name": "Key", "reply": "Hi", "shortcut": "!"}, "shortcut"),
    ],
)
def test_bad_macro_is_a_400_naming_the_field(owner, inbox, body, field):
    assert_error(bearer(owner).post("/api/v1/macros", body, format="json"), 400, field)
    assert not Macro.objects.exists()


def test_an_integrator_key_cannot_apply_a_macro(api, inbox, refund_macro):
    ticket = factories.make_ticket(inbox)
    assert_error(
        api.post(f"/api/v1/macros/{refund_macro.pk}/apply", {"ticket": ticket.public_id}, format="json"), 403
    )


def test_a_key_restricted_to_one_inbox_reads_shared_macros_but_does_not_change_them(
    organization, inbox, client_for_key, refund_macro
):
    # A shared macro is used in every inbox, like a trigger or a custom field.
    restricted = client_for_key(factories.make_api_key(organization, inbox=inbox)[1])
    assert restricted.get("/api/v1/macros").status_code == 200
    url = f"/api/v1/macros/{refund_macro.pk}"
    assert_error(restricted.post("/api/v1/macros", {"name": "Mine", "reply": "Hi"}, format="json"), 403)
    assert_error(restricted.patch(url, {"reply": "Changed"}, format="json"), 403)
    assert_error(restricted.delete(url), 403)
    assert list(Macro.objects.values_list("name", "reply")) == [(refund_macro.name, refund_macro.reply)]


def test_a_saved_reply_that_is_no_template_still_applies_and_shows_as_written(agent, agent_client, inbox):
    # Saved replies filled {{ customer_name }} and kept the rest as written; the migration
    # copies them unchecked, so one with "{%" in its text is a macro no template parses.
    body = "Hi {{ customer_name }}, use {% SAVE20 %} at checkout: 20% off {{ customer_name }}."
    macro = Macro.objects.create(organization=inbox.organization, name="Promo", reply=body, actions=[])
    ticket = factories.make_ticket(inbox, name="Jane")
    page = agent_client.get(f"/desk/tickets/{ticket.public_id}/")
    assert page.status_code == 200
    assert "use {% SAVE20 %} at checkout" in page.content.decode()
    response = bearer(agent).post(
        f"/api/v1/macros/{macro.pk}/apply", {"ticket": ticket.public_id}, format="json"
    )
    assert response.status_code == 200
    reply = ticket.messages.filter(author_type=Message.AuthorType.AGENT).get()
    assert reply.body == "Hi Jane, use {% SAVE20 %} at checkout: 20% off Jane."


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_macro_sent_with_crlf_line_breaks_counts_each_once(owner, inbox, refund_macro, method):
    lines = "\r\n".join(["y" * 49] * 100)  # 5,099 characters as sent, 4,999 as stored
    url = "/api/v1/macros" if method == "post" else f"/api/v1/macros/{refund_macro.pk}"
    body = {"name": "Long", "reply": lines}

    response = getattr(bearer(owner), method)(url, body, format="json")

    assert response.status_code in (200, 201), response.content
    assert Macro.objects.get(name="Long").reply == lines.replace("\r\n", "\n")
    too_long = {"name": "Longer", "reply": lines + "\r\nz"}
    assert_error(getattr(bearer(owner), method)(url, too_long, format="json"), 400, "reply")
