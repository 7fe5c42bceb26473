"""A merge reaches the feed and the webhooks as ticket.merged (issue 16, item 9)."""

import pytest

from tickets import services
from tickets.actors import Actor
from tickets.tests import factories

pytestmark = pytest.mark.django_db


def test_a_merge_is_told_as_ticket_merged_with_the_ticket_kept(api, inbox, agent, delivering):
    with delivering():
        kept = factories.make_ticket(inbox, email="jane@example.test")
        duplicate = factories.make_ticket(inbox, email="jane@example.test", subject="Same again")
    with delivering():
        services.merge_tickets(source=duplicate, target=kept, actor=Actor.agent(agent))

    feed = api.get("/api/v1/events", {"types": "ticket.merged,ticket.updated"}).json()["data"]

    merged = [event for event in feed if event["type"] == "ticket.merged"]
    assert len(merged) == 1
    data = merged[0]["data"]
    assert data["ticket"]["id"] == duplicate.public_id
    assert data["ticket"]["status"] == "closed"
    assert data["into"]["id"] == kept.public_id
    assert data["messages"] == 1
    changes = {
        event["data"]["ticket"]["id"]: event["data"]["changes"]
        for event in feed
        if event["type"] == "ticket.updated"
    }
    assert changes[duplicate.public_id]["merged_into"] == {"before": None, "after": kept.public_id}
    assert changes[kept.public_id]["merged_from"] == {"before": None, "after": duplicate.public_id}
