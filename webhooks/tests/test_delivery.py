"""Deliveries end to end: a real receiver on loopback verifies every one with the
``standardwebhooks`` package; retries, ordering, disabling and the delivery log."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.tests import factories
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

TICKET = {
    "customer": {"email": "jane@example.com", "name": "Jane"},
    "subject": "Refund please",
    "message": "Hi",
}


def test_a_ticket_created_through_the_api_reaches_the_receiver_signed_and_verifiable(
    api, api_key, receiver, make_endpoint, delivering
):
    endpoint = make_endpoint(api_key, receiver.url)
    with delivering():
        response = api.post("/api/v1/tickets", TICKET, format="json")
    assert response.status_code == 201

    assert receiver.types == ["customer.created", "ticket.created"]
    created = receiver.received[1].verify(endpoint["secret"])
    assert created["data"]["ticket"]["id"] == response.json()["id"]
    assert created["data"]["ticket"]["reference"] == response.json()["reference"]
    assert created["actor"] == {"type": "integrator", "id": None, "name": "API key “Backend”"}
    assert receiver.received[1].headers["webhook-id"] == created["id"]
    assert created["id"].startswith("evt_")


def test_every_delivery_verifies_and_the_log_records_each_attempt(
    api, api_key, receiver, make_endpoint, delivering
):
    endpoint = make_endpoint(api_key, receiver.url)
    with delivering():
        ticket_id = api.post("/api/v1/tickets", TICKET, format="json").json()["id"]
        api.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": "On it."}, format="json")
        api.patch(f"/api/v1/tickets/{ticket_id}", {"status": "resolved"}, format="json")

    for request in receiver.received:
        request.verify(endpoint["secret"])
    log = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()
    assert log["pagination"]["total"] == len(receiver.received)
    assert all(delivery["status"] == "delivered" for delivery in log["data"])
    first_attempt = log["data"][0]["attempt_log"][0]
    assert first_attempt["status_code"] == 200
    assert first_attempt["response_body"] == "ok"
    assert first_attempt["number"] == 1


def test_one_tickets_events_arrive_in_the_order_they_happened(
    api, api_key, receiver, make_endpoint, delivering
):
    make_endpoint(
        api_key, receiver.url, events=["ticket.created", "ticket.status_changed", "message.created"]
    )
    with delivering():
        ticket_id = api.post("/api/v1/tickets", TICKET, format="json").json()["id"]
        api.post(f"/api/v1/tickets/{ticket_id}/messages", {"body": "On it."}, format="json")
        api.patch(f"/api/v1/tickets/{ticket_id}", {"status": "resolved"}, format="json")

    assert receiver.types == [
        "ticket.created",
        "message.created",
        "ticket.status_changed",  # open → in progress, by the agent side's reply
        "ticket.status_changed",
    ]
    assert [payload["data"].get("after") for payload in receiver.payloads[2:]] == ["in_progress", "resolved"]


def test_a_receiver_that_fails_three_times_gets_it_once_after_growing_pauses(
    inbox, api_key, receiver, make_endpoint, delivering, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    make_endpoint(api_key, receiver.url, events=["ticket.created"])
    receiver.statuses = [500, 503, 502]
    with delivering():
        factories.make_ticket(inbox)
    delivery = WebhookDelivery.objects.get()
    pauses = []
    while delivery.status == WebhookDelivery.Status.PENDING:
        assert delivery.next_attempt_at > timezone.now()
        pauses.append(delivery.next_attempt_at - timezone.now())
        # Not due yet: the sweeper sends nothing early.
        assert services.drain(delivery.endpoint_id) == 0
        time_machine.move_to(delivery.next_attempt_at)
        services.drain(delivery.endpoint_id)
        delivery.refresh_from_db()

    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.attempts == 4
    assert [request.payload["type"] for request in receiver.received] == ["ticket.created"] * 4
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1
    assert pauses[0] < pauses[1] < pauses[2]
    assert timedelta(seconds=20) < pauses[0] < timedelta(seconds=40)
    statuses = [attempt.status_code for attempt in delivery.attempt_log.all()]
    assert statuses == [500, 503, 502, 200]
    assert WebhookEndpoint.objects.get().failing_since is None


def test_retries_stop_after_about_three_days(
    inbox, api_key, receiver, make_endpoint, delivering, time_machine, settings
):
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 30
    time_machine.move_to(timezone.now(), tick=False)
    started = timezone.now()
    make_endpoint(api_key, receiver.url, events=["ticket.created"])
    receiver.default_status = 500
    with delivering():
        factories.make_ticket(inbox)
    delivery = WebhookDelivery.objects.get()
    while delivery.status == WebhookDelivery.Status.PENDING:
        time_machine.move_to(delivery.next_attempt_at)
        services.drain(delivery.endpoint_id)
        delivery.refresh_from_db()

    assert delivery.status == WebhookDelivery.Status.FAILED
    assert timedelta(days=2) < delivery.last_attempt_at - started <= timedelta(hours=72)
    assert 8 <= delivery.attempts <= 16


def test_a_failing_ticket_holds_back_its_own_later_events_but_not_another_tickets(
    inbox, api_key, receiver, make_endpoint, delivering, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    make_endpoint(api_key, receiver.url, events=["ticket.created", "ticket.updated"])
    receiver.statuses = [500]
    with delivering():
        first = factories.make_ticket(inbox)
        ticket_services.update_ticket(ticket=first, actor=Actor.system("Tests"), priority="high")
        factories.make_ticket(inbox)

    # The first ticket's creation failed: its update waits; the second ticket went through.
    assert [(p["type"], p["data"]["ticket"]["id"]) for p in receiver.payloads] == [
        ("ticket.created", first.public_id),
        ("ticket.created", receiver.payloads[1]["data"]["ticket"]["id"]),
    ]
    assert receiver.payloads[1]["data"]["ticket"]["id"] != first.public_id
    time_machine.shift(timedelta(minutes=5))
    services.drain(WebhookEndpoint.objects.get().pk)
    assert [p["type"] for p in receiver.payloads[2:]] == ["ticket.created", "ticket.updated"]
    assert {p["data"]["ticket"]["id"] for p in receiver.payloads[2:]} == {first.public_id}


def test_a_410_disables_the_endpoint_and_tells_the_owners(
    inbox, owner, api_key, receiver, make_endpoint, delivering
):
    make_endpoint(api_key, receiver.url, events=["ticket.created"])
    receiver.default_status = 410
    with delivering():
        factories.make_ticket(inbox)
        factories.make_ticket(inbox)

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.active is False
    assert endpoint.disabled_reason == WebhookEndpoint.DisabledReason.GONE
    assert len(receiver.received) == 1  # Nothing more after the 410.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["owner@acme.test"]
    assert "were stopped" in message.subject and receiver.url[:40] in message.subject
    assert "410 Gone" in message.body
    assert f"/desk/settings/webhooks/{endpoint.public_id}/" in message.body
    html = message.alternatives[0].content
    assert "410 Gone" in html and endpoint.url in html


def test_an_endpoint_failing_for_days_is_disabled_and_owners_are_emailed(
    inbox, owner, api, api_key, receiver, make_endpoint, delivering, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    make_endpoint(api_key, receiver.url, events=["ticket.created"])
    receiver.default_status = 502
    for _day in range(6):
        with delivering():
            factories.make_ticket(inbox)
        endpoint = WebhookEndpoint.objects.get()
        if not endpoint.active:
            break
        time_machine.shift(timedelta(days=1))
        with delivering():
            services.drain(endpoint.pk)

    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.disabled_reason == WebhookEndpoint.DisabledReason.FAILING
    assert len(mail.outbox) == 1
    assert "no delivery succeeded for 5 days" in mail.outbox[0].body

    # Turned on again by its owner once the receiver works: the waiting deliveries go first.
    receiver.default_status = 200
    before = len(receiver.received)
    with delivering():
        response = api.patch(f"/api/v1/webhooks/{endpoint.public_id}", {"active": True}, format="json")
    assert response.json()["disabled_reason"] == ""
    assert response.json()["failing_since"] is None
    assert len(receiver.received) > before
    assert not WebhookDelivery.objects.filter(status="pending").exists()


def test_manual_redelivery_sends_a_delivered_event_again(
    api, api_key, inbox, receiver, make_endpoint, delivering
):
    endpoint = make_endpoint(api_key, receiver.url, events=["ticket.created"])
    with delivering():
        factories.make_ticket(inbox)
    delivery = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["data"][0]
    with delivering():
        response = api.post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver")
    assert response.status_code == 202
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    log = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["data"][0]
    assert log["attempts"] == 2 and len(log["attempt_log"]) == 2


def test_redelivering_another_organizations_delivery_is_a_404(
    api, api_key, other_api_key, client_for_key, inbox, receiver, make_endpoint, delivering
):
    endpoint = make_endpoint(api_key, receiver.url, events=["ticket.created"])
    with delivering():
        factories.make_ticket(inbox)
    delivery = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").json()["data"][0]
    other = client_for_key(other_api_key)
    response = other.post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{delivery['id']}/redeliver")
    assert response.status_code == 404
    assert response.json()["code"] == 404


def test_the_test_button_sends_a_signed_ping(api, api_key, receiver, make_endpoint, delivering):
    endpoint = make_endpoint(api_key, receiver.url, events=["ticket.created"])
    with delivering():
        response = api.post(f"/api/v1/webhooks/{endpoint['id']}/test")
    assert response.status_code == 202
    ping = receiver.received[0].verify(endpoint["secret"])
    assert ping["type"] == "ping"
    assert ping["data"]["webhook"] == {"id": endpoint["id"], "url": receiver.url}
    assert api.get("/api/v1/events").json()["data"] == []  # Pings are not part of the feed.


def test_redirects_are_not_followed(api_key, inbox, receiver, other_receiver, make_endpoint, delivering):
    make_endpoint(api_key, receiver.url, events=["ticket.created"])
    receiver.default_status = 302
    receiver.headers = {"Location": other_receiver.url}
    with delivering():
        factories.make_ticket(inbox)
    assert len(receiver.received) == 1
    assert other_receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempt_log.get().status_code == 302


def test_an_organizations_events_never_reach_another_organizations_endpoint(
    inbox, other_inbox, api_key, other_api_key, receiver, other_receiver, make_endpoint, delivering
):
    make_endpoint(api_key, receiver.url)
    make_endpoint(other_api_key, other_receiver.url)
    with delivering():
        mine = factories.make_ticket(inbox)
        theirs = factories.make_ticket(other_inbox)
    assert {p["data"]["ticket"]["id"] for p in receiver.payloads if "ticket" in p["data"]} == {mine.public_id}
    assert {p["data"]["ticket"]["id"] for p in other_receiver.payloads if "ticket" in p["data"]} == {
        theirs.public_id
    }


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    api_key, inbox, make_endpoint, delivering, settings
):
    import socket

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # Accepts connections, never answers.
    try:
        make_endpoint(api_key, f"http://127.0.0.1:{silent.getsockname()[1]}/hooks", events=["ticket.created"])
        with delivering():
            factories.make_ticket(inbox)
    finally:
        silent.close()
    attempt = WebhookDelivery.objects.get().attempt_log.get()
    assert attempt.status_code is None
    assert attempt.error == "No answer within 1 s."
    assert 900 <= attempt.duration_ms < 5000


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_delivered(status, api_key, inbox, receiver, make_endpoint, delivering):
    make_endpoint(api_key, receiver.url, events=["ticket.created"])
    receiver.default_status = status
    with delivering():
        factories.make_ticket(inbox)
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_a_receiver_that_is_down_costs_a_few_tries_per_drain_not_one_per_ticket(
    api_key, organization, make_endpoint
):
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: every connection is refused
    make_endpoint(api_key, f"http://127.0.0.1:{port}/hooks")
    now = timezone.now()
    endpoint_ids = services.record_events(
        [
            services.NewEvent(
                organization_id=organization.pk,
                type="ticket.created",
                ordering_key=f"ticket:{number}",
                occurred_at=now,
                actor={"type": "system", "id": None, "name": "Tests"},
                data={},
            )
            for number in range(10)
        ]
    )
    (endpoint_id,) = endpoint_ids
    services.drain(endpoint_id)
    attempts = WebhookDelivery.objects.filter(attempts__gt=0)
    assert attempts.count() == 3
    assert all(d.attempt_log.get().error.startswith("Connection failed") for d in attempts)
    assert WebhookDelivery.objects.filter(attempts=0, status="pending").count() == 7


def test_a_ticket_with_many_waiting_events_does_not_hide_another_tickets_behind_a_page(
    api_key, organization, receiver, make_endpoint, monkeypatch
):
    from webhooks.services import deliveries

    monkeypatch.setattr(deliveries, "BATCH_SIZE", 3)
    make_endpoint(api_key, receiver.url)
    receiver.statuses = [500]  # the first try (ticket A's first event) fails
    start = timezone.now()
    keys = ["ticket:A"] * 5 + ["ticket:B"]
    (endpoint_id,) = services.record_events(
        [
            services.NewEvent(
                organization_id=organization.pk,
                type="ticket.updated",
                ordering_key=key,
                occurred_at=start + timedelta(seconds=number),
                actor={"type": "system", "id": None, "name": "Tests"},
                data={"n": number},
            )
            for number, key in enumerate(keys)
        ]
    )
    services.drain(endpoint_id)
    assert [payload["data"]["n"] for payload in receiver.payloads] == [0, 5]
    assert WebhookDelivery.objects.filter(event__ordering_key="ticket:A", attempts=0).count() == 4


def _record_for(organization, count: int, first: int = 0) -> int:
    now = timezone.now()
    (endpoint_id,) = services.record_events(
        [
            services.NewEvent(
                organization_id=organization.pk,
                type="ticket.created",
                ordering_key=f"ticket:{number}",
                occurred_at=now + timedelta(milliseconds=number),
                actor={"type": "system", "id": None, "name": "Tests"},
                data={"n": number},
            )
            for number in range(first, first + count)
        ]
    )
    return endpoint_id


def test_one_drain_keeps_the_connection_open_while_the_receiver_does(
    api_key, organization, receiver, make_endpoint
):
    receiver.keep_alive = True
    endpoint = make_endpoint(api_key, receiver.url)
    services.drain(_record_for(organization, 5))
    assert [payload["data"]["n"] for payload in receiver.payloads] == [0, 1, 2, 3, 4]
    assert len(set(receiver.client_ports)) == 1
    for request in receiver.received:
        request.verify(endpoint["secret"])


def test_a_kept_connection_the_receiver_dropped_is_reopened_and_nothing_is_lost_or_doubled(
    api_key, organization, receiver, make_endpoint
):
    receiver.keep_alive = True
    receiver.closing_silently = True
    make_endpoint(api_key, receiver.url)
    services.drain(_record_for(organization, 4))
    assert [payload["data"]["n"] for payload in receiver.payloads] == [0, 1, 2, 3]
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("delivered", 1)}


def test_one_drain_is_queued_for_the_earliest_retry_however_many_drains_ran(
    api_key, organization, receiver, make_endpoint, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    make_endpoint(api_key, receiver.url)
    receiver.statuses = [500]
    endpoint_id = _record_for(organization, 1)
    services.drain(endpoint_id)  # fails: its retry is queued
    services.drain(_record_for(organization, 1, first=1))  # another ticket, delivered
    services.drain(endpoint_id)  # nothing due

    waiting = DBTaskResult.objects.filter(task_path="webhooks.services.deliveries.deliver_endpoint")
    retry_at = WebhookDelivery.objects.get(status="pending").next_attempt_at
    assert [task.run_after for task in waiting] == [retry_at]


def test_events_recorded_before_a_queued_drain_starts_need_no_drain_of_their_own(
    api_key, organization, receiver, make_endpoint, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    make_endpoint(api_key, receiver.url)
    for first in range(4):
        services.enqueue_drains([_record_for(organization, 1, first=first)])
    drains = DBTaskResult.objects.filter(task_path="webhooks.services.deliveries.deliver_endpoint")
    assert drains.count() == 1
    services.drain(WebhookEndpoint.objects.get().pk)  # what the queued drain does
    assert len(receiver.received) == 4
    services.enqueue_drains([_record_for(organization, 1, first=9)])  # after it started: a new one
    assert drains.count() == 2
