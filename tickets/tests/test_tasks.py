"""The task queue that carries email: retries with backoff, failures kept for staff, the
database worker, and nothing lost when the provider is down."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tickets import notifications, tasks
from tickets.models import Delivery, Ticket
from tickets.tasks import retry_deliveries
from tickets.tests import factories

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


class FlakyProvider(LocmemBackend):
    """A provider that is down while ``down`` is true (the edge we do not own)."""

    down = True
    failures_left = 0
    calls = 0

    def send_messages(self, messages):
        FlakyProvider.calls += 1
        if FlakyProvider.failures_left > 0:
            FlakyProvider.failures_left -= 1
            raise ConnectionError("Connection reset by the provider")
        if FlakyProvider.down:
            raise ConnectionError("503 Service Unavailable from the provider")
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def mail_settings(settings):
    FlakyProvider.down = True
    FlakyProvider.failures_left = 0
    FlakyProvider.calls = 0
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FlakyProvider"}}
    settings.SUPPORT_EMAIL_SENDER = "smtp"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.INBOUND_EMAIL_DOMAIN = "reply.acme.test"
    settings.DELIVERY_MAX_ATTEMPTS = 3
    settings.DELIVERY_RETRY_BASE_SECONDS = 60
    settings.DELIVERY_INLINE_RETRY_SECONDS = 0
    return settings


def create_ticket(api):
    return api.post(
        "/api/v1/tickets",
        {"customer": {"email": "jane@example.com"}, "subject": "Refund please", "message": "Charged twice."},
        format="json",
    )


def queue_new_ticket_deliveries(inbox, django_capture_on_commit_callbacks):
    """A new ticket's deliveries, queued as the notification tasks leave them (nothing
    sent): the support copy, and the acknowledgement trigger's mail to the customer."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com")
    notifications.notify_ticket_created.call(ticket.pk)
    notifications.notify_trigger_email.call(ticket.pk, "acknowledgement", "", "")


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_a_provider_outage_never_fails_the_api_and_a_later_retry_sends_everything(
    api, inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = create_ticket(api)

    assert response.status_code == 201
    ticket = Ticket.objects.get(public_id=response.json()["id"])
    assert ticket.messages.get().body == "Charged twice."
    deliveries = Delivery.objects.filter(ticket=ticket)
    assert deliveries.count() == 2
    for delivery in deliveries:
        assert delivery.status == Delivery.Status.FAILED
        assert delivery.attempts == 3
        assert "503 Service Unavailable" in delivery.last_error
    assert FlakyProvider.calls == 6  # three tries for each of the two emails
    assert mail.outbox == []

    FlakyProvider.down = False
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_failed_deliveries", verbosity=0)

    assert sorted(deliveries.values_list("status", flat=True)) == ["sent", "sent"]
    assert sorted(email.to[0] for email in mail.outbox) == ["jane@example.com", "support@acme.test"]
    assert list(deliveries.values_list("attempts", "last_error")) == [(1, ""), (1, "")]


def test_a_provider_that_recovers_between_tries_sends_on_the_next_try(
    inbox, django_capture_on_commit_callbacks
):
    FlakyProvider.down = False
    FlakyProvider.failures_left = 1
    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket(inbox, email="jane@example.com")

    support = Delivery.objects.get(kind=Delivery.Kind.NEW_TICKET)
    assert (support.status, support.attempts) == ("sent", 2)
    confirmation = Delivery.objects.get(kind=Delivery.Kind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == ("sent", 1)
    assert len(mail.outbox) == 2


# The worker closes stale connections between tasks, as in production: no test transaction.
@pytest.mark.django_db(transaction=True)
def test_with_the_database_backend_a_failed_send_is_retried_later_with_growing_waits(
    api, inbox, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        assert create_ticket(api).status_code == 201
    # The request enqueued one task (the outbox: the support copy, the acknowledgement
    # trigger's mail, the events for webhooks and the feed); the worker renders the mails
    # and queues their sending.
    assert DBTaskResult.objects.ready().count() == 1
    assert not Delivery.objects.exists()

    before = timezone.now()
    run_worker()

    assert set(Delivery.objects.values_list("status", "attempts")) == {("queued", 1)}
    for delivery in Delivery.objects.all():
        wait = delivery.next_attempt_at - before
        assert timedelta(seconds=59) < wait < timedelta(seconds=65)
    assert DBTaskResult.objects.ready().count() == 0  # deferred: run_after is in the future
    waiting = DBTaskResult.objects.filter(status="READY")
    assert waiting.count() == 2
    assert all(timedelta(seconds=59) < task.run_after - before < timedelta(seconds=65) for task in waiting)

    waiting.update(run_after=timezone.now())
    before = timezone.now()
    run_worker()
    for delivery in Delivery.objects.all():
        assert delivery.attempts == 2
        wait = delivery.next_attempt_at - before
        assert timedelta(seconds=119) < wait < timedelta(seconds=125)

    FlakyProvider.down = False
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    run_worker()

    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 3)}
    assert len(mail.outbox) == 2


def test_with_the_database_backend_the_notification_commits_with_the_ticket_or_not_at_all(inbox, settings):
    from django.db import transaction

    from tickets import services
    from tickets.actors import Actor

    settings.TASKS = DATABASE_TASKS

    def open_ticket(email):
        return services.create_ticket(
            inbox=inbox,
            customer=services.CustomerData(email=email),
            subject="Refund please",
            message="Charged twice.",
            actor=Actor.system(),
        )[0]

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        open_ticket("rolled-back@example.com")
        # Written inside the ticket's transaction, not after its COMMIT: a crash between
        # the two cannot leave a ticket whose notification was never queued.
        assert DBTaskResult.objects.ready().count() == 1
        raise Abandoned
    assert not Ticket.objects.exists()
    assert not DBTaskResult.objects.exists()

    ticket = open_ticket("jane@example.com")

    # One row for all the transaction's work: the support copy, the acknowledgement
    # trigger's mail and its count of uses, and the events for webhooks and the feed,
    # which commit with the ticket too.
    task = DBTaskResult.objects.ready().get()
    assert task.task_path == "tickets.outbox.run"
    (calls,) = task.args_kwargs["args"]
    by_task = dict(calls)
    assert by_task["tickets.notifications.notify_ticket_created"] == [ticket.pk]
    assert by_task["tickets.notifications.notify_trigger_email"] == [ticket.pk, "acknowledgement", "", ""]
    assert len(by_task["automation.services.record_firings"][0]) == 1
    (records,) = by_task["webhooks.subscribers.record_domain_events"]
    assert [record["type"] for record in records] == ["customer.created", "ticket.created"]


# The worker closes stale connections between tasks, as in production: no test transaction.
@pytest.mark.django_db(transaction=True)
def test_with_the_database_backend_the_last_failed_try_marks_the_delivery_failed(
    api, inbox, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    settings.DELIVERY_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        create_ticket(api)

    run_worker()

    assert set(Delivery.objects.values_list("status", "attempts")) == {("failed", 1)}
    assert DBTaskResult.objects.ready().count() == 0


def test_a_delivery_is_sent_at_most_once_even_if_its_task_runs_twice(
    inbox, settings, django_capture_on_commit_callbacks
):

    FlakyProvider.down = False
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    queue_new_ticket_deliveries(inbox, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get(kind=Delivery.Kind.CONFIRMATION)

    assert tasks.send_delivery.call(delivery.pk) == "sent"
    assert tasks.send_delivery.call(delivery.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_stuck_queued_deliveries_are_picked_up_by_the_sweeper(
    inbox, settings, django_capture_on_commit_callbacks
):
    FlakyProvider.down = False
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    queue_new_ticket_deliveries(inbox, django_capture_on_commit_callbacks)
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=2))
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

    with django_capture_on_commit_callbacks(execute=True):
        count = retry_deliveries()

    assert count == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_db_worker_on_postgresql_picks_up_a_queued_notification_and_sends_it(api, inbox, settings):
    FlakyProvider.down = False
    settings.TASKS = DATABASE_TASKS

    response = create_ticket(api)  # autocommit: on_commit callbacks run for real

    assert response.status_code == 201
    # The request only enqueued the notifications (the support copy, the acknowledgement
    # trigger's mail): the worker renders, records and sends.
    assert not Delivery.objects.exists()
    assert mail.outbox == []
    # One task row: the notification, and the events for webhooks and the feed.
    assert DBTaskResult.objects.ready().count() == 1

    run_worker()

    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(email.to[0] for email in mail.outbox) == ["jane@example.com", "support@acme.test"]
    # The outbox's task, then one send for both mails (and the feed's drain task, if any).
    assert DBTaskResult.objects.successful().filter(task_path="tickets.outbox.run").count() == 1
    assert DBTaskResult.objects.successful().filter(task_path="tickets.tasks.send_deliveries").count() == 1


def test_the_admin_action_sends_failed_deliveries_again(inbox, rf, django_capture_on_commit_callbacks):
    from django.contrib.admin import site
    from django.contrib.messages.storage.fallback import FallbackStorage

    from tickets.admin.history import DeliveryAdmin

    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket(inbox, email="jane@example.com")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    FlakyProvider.down = False
    request = rf.post("/admin/tickets/delivery/")
    request.session = {}
    request._messages = FallbackStorage(request)

    with django_capture_on_commit_callbacks(execute=True):
        DeliveryAdmin(Delivery, site).retry_deliveries_action(
            request, Delivery.objects.filter(kind="confirmation")
        )

    assert dict(Delivery.objects.values_list("kind", "status")) == {
        "confirmation": "sent",
        "new_ticket": "failed",
    }
    assert [message.message for message in request._messages] == ["Queued 1 delivery again."]


def test_the_immediate_backend_retries_inline_only_a_few_times(
    inbox, settings, django_capture_on_commit_callbacks
):
    settings.DELIVERY_MAX_ATTEMPTS = 5
    settings.DELIVERY_INLINE_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket(inbox, email="jane@example.com")

    assert set(Delivery.objects.values_list("status", "attempts")) == {("failed", 2)}
    assert FlakyProvider.calls == 4


def test_with_the_database_backend_a_notifications_mails_are_sent_by_one_task(inbox, settings):
    FlakyProvider.down = False
    settings.TASKS = DATABASE_TASKS
    ticket = factories.make_ticket(inbox, email="jane@example.com")
    DBTaskResult.objects.all().delete()

    notifications.notify_ticket_created.call(ticket.pk)

    deliveries = sorted(Delivery.objects.filter(ticket=ticket).values_list("pk", flat=True))
    assert len(deliveries) == 1
    send = DBTaskResult.objects.ready().get()
    assert send.task_path == "tickets.tasks.send_deliveries"
    assert sorted(send.args_kwargs["args"][0]) == deliveries


def test_a_failed_mail_in_a_batch_is_retried_alone_and_the_rest_is_sent(inbox, settings):
    settings.TASKS = DATABASE_TASKS
    FlakyProvider.down = False
    FlakyProvider.failures_left = 1
    ticket = factories.make_ticket(inbox, email="jane@example.com")
    notifications.notify_ticket_created.call(ticket.pk)
    notifications.notify_trigger_email.call(ticket.pk, "acknowledgement", "", "")
    DBTaskResult.objects.all().delete()
    first, second = Delivery.objects.filter(ticket=ticket).order_by("pk")

    assert tasks.send_deliveries.call([first.pk, second.pk]) == ["retry", "sent"]

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts, second.status) == ("queued", 1, "sent")
    retry = DBTaskResult.objects.get()
    assert (retry.task_path, retry.args_kwargs["args"]) == ("tickets.tasks.send_delivery", [first.pk])
    assert len(mail.outbox) == 1
