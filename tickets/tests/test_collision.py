"""Collision safety (issue 16, item 6): a reply written while someone else wrote on the
ticket is not sent before its author has seen the new message."""

import re

import pytest
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.exceptions import NewMessagesSinceSeen
from tickets.models import Draft, Message
from tickets.tests import factories

pytestmark = pytest.mark.django_db


def newest(ticket) -> Message:
    return ticket.messages.order_by("-pk").first()


def send(client, ticket, **data):
    return client.post(reverse("dashboard:add_message", args=[ticket.public_id]), {"kind": "reply", **data})


def seen_on_page(client, ticket) -> str:
    html = client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    return re.search(r'name="seen_message" value="([^"]*)"', html).group(1)


def test_the_composer_names_the_newest_message_the_page_shows(agent_client, ticket):
    assert seen_on_page(agent_client, ticket) == newest(ticket).public_id


def test_a_reply_after_a_new_customer_message_is_refused_with_409_and_shows_it(agent_client, ticket):
    seen = seen_on_page(agent_client, ticket)
    services.add_message(
        ticket=ticket, body="Also, my card was charged twice!", actor=Actor.for_customer(ticket.customer)
    )

    response = send(agent_client, ticket, body="We are on it.", submission="s1", seen_message=seen)

    assert response.status_code == 409
    html = response.content.decode()
    composer = html[html.index('data-new-messages data-testid="new-messages"') :]
    assert "A new message arrived while you were writing" in composer
    assert "Also, my card was charged twice!" in composer[: composer.index("</ol>")]
    assert "Send anyway" in composer
    assert "We are on it." in html  # the text as typed
    assert not ticket.messages.filter(body="We are on it.").exists()
    # The composer now names the new message as seen: "Send anyway" sends.
    assert re.search(r'name="seen_message" value="([^"]*)"', html).group(1) == newest(ticket).public_id
    assert 'name="submission" value="s1"' in html


def test_send_anyway_sends_once(agent_client, ticket):
    services.add_message(ticket=ticket, body="Hello?", actor=Actor.for_customer(ticket.customer))
    latest = newest(ticket).public_id

    first = send(agent_client, ticket, body="We are on it.", submission="s1", seen_message=latest)
    second = send(agent_client, ticket, body="We are on it.", submission="s1", seen_message=latest)

    assert first.status_code == second.status_code == 302
    assert ticket.messages.filter(body="We are on it.").count() == 1


def test_a_double_press_after_the_send_is_not_taken_for_a_collision(agent_client, ticket):
    seen = newest(ticket).public_id
    send(agent_client, ticket, body="Done.", submission="s1", seen_message=seen)

    # The second press carries the same seen message; the first press's message is the
    # agent's own, and the token finds it: nothing is asked, nothing is sent again.
    response = send(agent_client, ticket, body="Done.", submission="s1", seen_message=seen)

    assert response.status_code == 302
    assert ticket.messages.filter(body="Done.").count() == 1


def test_a_colleagues_note_counts_and_the_agents_own_message_does_not(agent, organization, ticket):
    colleague = factories.make_agent(organization, email="bob@acme.test", name="Bob Builder")
    seen = newest(ticket).public_id
    services.add_message(
        ticket=ticket, body="My own, from another tab", kind="note", actor=Actor.agent(agent)
    )

    message, created = services.add_message(
        ticket=ticket, body="Fine", actor=Actor.agent(agent), seen_message=seen, kind="note"
    )
    assert created

    services.add_message(ticket=ticket, body="I'm calling them", kind="note", actor=Actor.agent(colleague))
    with pytest.raises(NewMessagesSinceSeen) as refused:
        services.add_message(
            ticket=ticket, body="Replying", actor=Actor.agent(agent), seen_message=message.public_id
        )
    assert [unseen.body for unseen in refused.value.messages] == ["I'm calling them"]


def test_without_the_field_nothing_is_asked(agent, ticket):
    services.add_message(ticket=ticket, body="New", actor=Actor.for_customer(ticket.customer))

    _, created = services.add_message(ticket=ticket, body="Sent from the API", actor=Actor.agent(agent))

    assert created


def test_the_draft_survives_a_refusal(agent_client, agent, ticket):
    seen = seen_on_page(agent_client, ticket)
    agent_client.post(
        reverse("dashboard:save_draft", args=[ticket.public_id]), {"body": "Half a reply", "kind": "reply"}
    )
    services.add_message(ticket=ticket, body="Anyone?", actor=Actor.for_customer(ticket.customer))

    assert (
        send(agent_client, ticket, body="Half a reply", submission="s1", seen_message=seen).status_code == 409
    )
    assert Draft.objects.get(ticket=ticket, user=agent).body == "Half a reply"

    assert (
        send(
            agent_client, ticket, body="Half a reply", submission="s1", seen_message=newest(ticket).public_id
        ).status_code
        == 302
    )
    assert not Draft.objects.filter(ticket=ticket, user=agent).exists()
