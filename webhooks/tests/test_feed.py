"""GET /api/v1/events: the same events as the webhooks, in order, by cursor, scoped."""

from datetime import timedelta

from django.utils import timezone

from tickets.tests import factories
from webhooks import services
from webhooks.models import Event


def make_tickets(inbox, delivering, count: int) -> list:
    with delivering():
        return [factories.make_ticket(inbox, email="same@example.test") for _ in range(count)]


def test_the_feed_lists_events_oldest_first_in_the_webhook_shape(api, inbox, delivering):
    tickets = make_tickets(inbox, delivering, 3)
    body = api.get("/api/v1/events").json()
    assert [event["type"] for event in body["data"]] == ["customer.created"] + ["ticket.created"] * 3
    assert [event["data"]["ticket"]["id"] for event in body["data"][1:]] == [t.public_id for t in tickets]
    assert set(body["data"][1]) == {"type", "id", "timestamp", "actor", "data"}
    assert body["pagination"] == {"next_cursor": body["data"][-1]["id"], "has_more": False}


def test_cursor_pagination_walks_every_event_once_and_then_waits_for_more(api, inbox, delivering):
    make_tickets(inbox, delivering, 5)  # customer.created + 5 ticket.created
    seen, cursor = [], ""
    while True:
        body = api.get("/api/v1/events", {"after": cursor, "limit": 2}).json()
        seen += [event["id"] for event in body["data"]]
        cursor = body["pagination"]["next_cursor"]
        if not body["pagination"]["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 6
    assert seen == list(Event.objects.order_by("id").values_list("public_id", flat=True))

    empty = api.get("/api/v1/events", {"after": cursor}).json()
    assert empty == {"data": [], "pagination": {"next_cursor": cursor, "has_more": False}}
    make_tickets(inbox, delivering, 1)
    fresh = api.get("/api/v1/events", {"after": cursor}).json()
    assert [event["type"] for event in fresh["data"]] == ["ticket.created"]


def test_types_filters_the_feed(api, inbox, delivering):
    make_tickets(inbox, delivering, 2)
    body = api.get("/api/v1/events", {"types": "customer.created,message.created"}).json()
    assert [event["type"] for event in body["data"]] == ["customer.created"]


def test_bad_cursor_limit_or_type_is_a_400_naming_the_parameter(
    api, other_api_key, client_for_key, other_inbox, delivering
):
    make_tickets(other_inbox, delivering, 1)
    theirs = client_for_key(other_api_key).get("/api/v1/events").json()["data"][0]["id"]
    for params, field in [
        ({"after": "evt_nope"}, "after"),
        ({"after": theirs}, "after"),  # another organization's event is no cursor of ours
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"types": "ticket.exploded"}, "types"),
    ]:
        response = api.get("/api/v1/events", params)
        assert response.status_code == 400, params
        assert field in [detail["field"] for detail in response.json()["details"]]


def test_one_organizations_events_never_show_in_anothers_feed(
    api, other_api_key, client_for_key, inbox, other_inbox, delivering
):
    mine = make_tickets(inbox, delivering, 1)[0]
    theirs = make_tickets(other_inbox, delivering, 1)[0]
    ours = [
        e["data"]["ticket"]["id"] for e in api.get("/api/v1/events").json()["data"] if "ticket" in e["data"]
    ]
    other = client_for_key(other_api_key).get("/api/v1/events").json()["data"]
    assert ours == [mine.public_id]
    assert [e["data"]["ticket"]["id"] for e in other if "ticket" in e["data"]] == [theirs.public_id]


def test_an_inbox_restricted_key_reads_only_its_inboxs_events(
    organization, inbox, client_for_key, delivering
):
    second = factories.make_inbox(organization, name="Second", prefix="SEC")
    _, restricted = factories.make_api_key(organization, name="Second only", inbox=second)
    make_tickets(inbox, delivering, 1)
    with delivering():
        in_second = factories.make_ticket(second)
    body = client_for_key(restricted).get("/api/v1/events").json()
    assert [(e["type"], e["data"]["ticket"]["id"]) for e in body["data"]] == [
        ("ticket.created", in_second.public_id)
    ]


def test_an_agent_token_reads_its_organizations_feed(inbox, agent, delivering):
    from rest_framework.test import APIClient

    make_tickets(inbox, delivering, 1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(agent)[1]}")
    assert len(client.get("/api/v1/events").json()["data"]) == 2


def test_events_older_than_the_retention_are_not_shown_and_are_pruned(
    api, inbox, delivering, settings, time_machine
):
    settings.EVENT_RETENTION_DAYS = 7
    time_machine.move_to(timezone.now() - timedelta(days=8), tick=False)
    make_tickets(inbox, delivering, 1)
    time_machine.move_to(timezone.now() + timedelta(days=8), tick=False)
    recent = make_tickets(inbox, delivering, 1)[0]
    body = api.get("/api/v1/events").json()
    assert [e["data"]["ticket"]["id"] for e in body["data"]] == [recent.public_id]
    assert services.prune_events() == 2  # the old customer.created and ticket.created
    assert Event.objects.count() == 1


def test_reading_the_feed_costs_the_same_few_queries_for_many_events(
    api, inbox, delivering, django_assert_max_num_queries
):
    make_tickets(inbox, delivering, 8)
    cursor = api.get("/api/v1/events", {"limit": 1}).json()["pagination"]["next_cursor"]
    with django_assert_max_num_queries(5):
        body = api.get("/api/v1/events", {"after": cursor}).json()
    assert len(body["data"]) == 8
