"""Merge, split and link through the native API (issue 16, item 9)."""

import pytest

from tickets import services
from tickets.actors import Actor
from tickets.models import Ticket, TicketLink
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(inbox):
    return factories.make_ticket(inbox, email="jane@example.com", subject="Refund please")


@pytest.fixture
def source(inbox):
    return factories.make_ticket(
        inbox, email="jane@example.com", subject="Refund!!", message="Again: refund."
    )


def merge(api, ticket, into):
    return api.post(f"/api/v1/tickets/{ticket.public_id}/merge", {"into": into}, format="json")


def test_merge_answers_the_target_with_the_moved_thread(api, source, target):
    response = merge(api, source, target.public_id)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == target.public_id
    assert sorted(message["body"] for message in body["messages"]) == ["Again: refund.", "Help me please."]
    shown = api.get(f"/api/v1/tickets/{source.public_id}").json()
    assert shown["status"] == "closed"
    assert shown["messages"] == []
    links = api.get(f"/api/v1/tickets/{source.public_id}/links").json()["data"]
    assert links == [
        {
            "kind": "merged_into",
            "ticket": {
                "id": target.public_id,
                "reference": target.reference,
                "subject": "Refund please",
                "status": "open",
            },
            "created_at": links[0]["created_at"],
        }
    ]
    events = api.get(f"/api/v1/tickets/{target.public_id}/events").json()["data"]
    assert any(event["action"] == "merged" and event["field"] == "merged_from" for event in events)


def test_merge_bad_input_is_a_clear_4xx_that_changes_nothing(api, source, target, other_inbox):
    foreign = factories.make_ticket(other_inbox)

    assert_error(api.post(f"/api/v1/tickets/{source.public_id}/merge", {}, format="json"), 400, "into")
    assert_error(
        api.post(f"/api/v1/tickets/{source.public_id}/merge", {"into": 42}, format="json"), 400, "into"
    )
    assert_error(merge(api, source, source.public_id), 400, "into")
    assert_error(merge(api, source, foreign.public_id), 404)
    assert_error(merge(api, source, "01ZZZZZZZZZZZZZZZZZZZZZZZZ"), 404)
    assert_error(merge(api, foreign, target.public_id), 404)

    source.refresh_from_db()
    assert source.status == Ticket.Status.OPEN
    assert source.merged_into_id is None
    assert source.messages.count() == 1


def test_merging_twice_or_back_is_a_conflict(api, source, target, inbox):
    assert merge(api, source, target.public_id).status_code == 200
    third = factories.make_ticket(inbox)

    body = assert_error(merge(api, source, third.public_id), 409)
    assert "already merged" in body["message"]
    body = assert_error(merge(api, target, source.public_id), 409)
    assert "loop" in body["message"]
    assert_error(api.patch(f"/api/v1/tickets/{source.public_id}", {"status": "open"}, format="json"), 409)


def test_another_organizations_key_cannot_merge_ours(client_for_key, other_api_key, source, target):
    response = merge(client_for_key(other_api_key), source, target.public_id)
    assert_error(response, 404)
    assert not TicketLink.objects.exists()


def test_split_makes_a_new_ticket_of_a_message(api, target, agent):
    message, _ = services.add_message(
        ticket=target, body="Another thing: invoices.", actor=Actor.for_customer(target.customer)
    )

    response = api.post(
        f"/api/v1/tickets/{target.public_id}/split",
        {"message": message.public_id, "subject": "Invoices"},
        format="json",
    )

    assert response.status_code == 201, response.content
    new = response.json()
    assert new["subject"] == "Invoices"
    assert new["customer"]["email"] == "jane@example.com"
    assert [m["body"] for m in new["messages"]] == ["Another thing: invoices."]
    links = api.get(f"/api/v1/tickets/{target.public_id}/links").json()["data"]
    assert [(link["kind"], link["ticket"]["id"]) for link in links] == [("split_into", new["id"])]


def test_split_bad_input(api, target, source):
    first = target.messages.get()
    assert_error(api.post(f"/api/v1/tickets/{target.public_id}/split", {}, format="json"), 400, "message")
    response = api.post(
        f"/api/v1/tickets/{target.public_id}/split", {"message": first.public_id}, format="json"
    )
    assert_error(response, 400, "message")
    elsewhere = source.messages.get().public_id
    assert_error(
        api.post(f"/api/v1/tickets/{target.public_id}/split", {"message": elsewhere}, format="json"), 404
    )
    assert Ticket.objects.count() == 2


def test_links_add_list_and_remove(api, source, target, other_inbox):
    url = f"/api/v1/tickets/{source.public_id}/links"

    created = api.post(url, {"ticket": target.public_id}, format="json")
    again = api.post(url, {"ticket": target.public_id}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["kind"] == "related"
    assert again.status_code == 200
    theirs = api.get(f"/api/v1/tickets/{target.public_id}/links").json()["data"]
    assert [(link["kind"], link["ticket"]["id"]) for link in theirs] == [("related", source.public_id)]

    assert_error(api.post(url, {"ticket": source.public_id}, format="json"), 400, "ticket")
    assert_error(api.post(url, {"ticket": factories.make_ticket(other_inbox).public_id}, format="json"), 404)

    assert api.delete(f"{url}/{target.public_id}").status_code == 204
    assert_error(api.delete(f"{url}/{target.public_id}"), 404)
    assert api.get(url).json()["data"] == []


def test_search_finds_the_moved_words_on_the_target(api, source, target):
    services.add_message(
        ticket=source, body="Zanzibar invoice number", actor=Actor.for_customer(source.customer)
    )
    merge(api, source, target.public_id)

    found = api.get("/api/v1/tickets", {"q": "zanzibar"}).json()["data"]

    assert [ticket["id"] for ticket in found] == [target.public_id]
