"""Merge, split and link from the ticket page (issue 16, item 9)."""

import pytest
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.models import Ticket, TicketLink
from tickets.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(inbox):
    return factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")


@pytest.fixture
def source(inbox, target):
    return factories.make_ticket(
        inbox, email="jane@example.com", subject="Refund again", message="Where is it?"
    )


def page(client, ticket) -> str:
    response = client.get(reverse("dashboard:ticket", args=[ticket.public_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_merging_by_reference_shows_the_target_with_the_moved_thread(agent_client, source, target):
    response = agent_client.post(
        reverse("dashboard:merge_ticket", args=[source.public_id]), {"into": f"#{target.reference.lower()}"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:ticket", args=[target.public_id])
    shown = page(agent_client, target)
    assert f"{source.reference} was merged into {target.reference}." in shown
    assert "Where is it?" in shown
    assert f"merged {source.reference} into this ticket (1 message moved here)" in shown
    assert "Merged from" in shown
    closed = page(agent_client, source)
    assert 'data-testid="merged-banner"' in closed
    assert f"merged this ticket into {target.reference}" in closed
    assert 'data-testid="merge-form"' not in closed
    assert 'data-testid="composer"' not in closed


def test_a_refused_merge_says_why_and_changes_nothing(agent_client, source, other_inbox):
    foreign = factories.make_ticket(other_inbox)
    for typed in ("", source.reference, foreign.reference, foreign.public_id):
        response = agent_client.post(
            reverse("dashboard:merge_ticket", args=[source.public_id]), {"into": typed}, follow=True
        )
        assert "Not merged." in response.content.decode()
    source.refresh_from_db()
    assert source.merged_into_id is None
    assert source.status == Ticket.Status.OPEN


def test_another_organizations_ticket_page_actions_are_404(client, other_agent, source, target):
    client.force_login(other_agent)
    response = client.post(
        reverse("dashboard:merge_ticket", args=[source.public_id]), {"into": target.reference}
    )
    assert response.status_code == 404
    assert not TicketLink.objects.exists()


def test_split_a_message_from_its_card(agent_client, target):
    later, _ = services.add_message(
        ticket=target, body="And the invoice is wrong.", actor=Actor.for_customer(target.customer)
    )
    shown = page(agent_client, target)
    split_url = reverse("dashboard:split_message", args=[target.public_id, later.public_id])
    first_url = reverse("dashboard:split_message", args=[target.public_id, target.messages.first().public_id])
    assert split_url in shown
    assert first_url not in shown

    response = agent_client.post(split_url)

    new = Ticket.objects.exclude(pk=target.pk).get()
    assert response["Location"] == reverse("dashboard:ticket", args=[new.public_id])
    assert "And the invoice is wrong." in page(agent_client, new)
    assert f"split a message off into {new.reference}" in page(agent_client, target)


def test_link_and_unlink_in_the_sidebar(agent_client, source, target):
    agent_client.post(reverse("dashboard:link_ticket", args=[source.public_id]), {"ticket": target.reference})

    shown = page(agent_client, target)
    assert "Related to" in shown
    assert f"linked this ticket to {source.reference}" in shown

    agent_client.post(reverse("dashboard:unlink_ticket", args=[target.public_id, source.public_id]))

    assert not TicketLink.objects.exists()
    assert f"removed the link to {target.reference}" in page(agent_client, source)
