"""The organization's retention rule: closed tickets older than N days are anonymized or
deleted by the worker (``manage.py apply_retention``), and each run is in the audit log."""

import datetime as dt

import pytest
from django.core.management import call_command

from accounts.models import AuditEvent, Organization
from tickets import services
from tickets.actors import Actor
from tickets.models import Attachment, Message, Ticket, TicketEvent
from tickets.tests import factories

UTC = dt.UTC
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _closed_ticket(inbox, *, subject: str, message: str, with_file: bool = False) -> Ticket:
    ticket, _ = services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(email=f"{subject.split()[0].lower()}@example.com", name="Someone"),
        subject=subject,
        message=message,
        actor=Actor.system("Tests"),
        attachments=[services.UploadedFile("invoice.pdf", "application/pdf", b"%PDF secret")]
        if with_file
        else (),
    )
    return services.change_status(ticket=ticket, status=Ticket.Status.CLOSED, actor=Actor.system("Tests"))


@pytest.fixture
def history(organization, inbox, time_machine, django_capture_on_commit_callbacks):
    """One ticket closed 100 days ago (with a file), one closed 10 days ago, one open for
    100 days; and another organization's ticket closed 100 days ago with no rule."""
    time_machine.move_to(START, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        old = _closed_ticket(inbox, subject="Albatross refund", message="Old words", with_file=True)
        still_open = factories.make_ticket(inbox, subject="Open heron", message="Open words")
        other_org = factories.make_organization()
        foreign = _closed_ticket(factories.make_inbox(other_org), subject="Foreign ibis", message="Elsewhere")
    time_machine.move_to(START + dt.timedelta(days=90), tick=False)
    recent = _closed_ticket(inbox, subject="Recent crane", message="New words")
    time_machine.move_to(START + dt.timedelta(days=100), tick=False)
    return {"old": old, "recent": recent, "open": still_open, "foreign": foreign}


def _rule(organization, days: int | None, action: str = "anonymize") -> None:
    Organization.objects.filter(pk=organization.pk).update(retention_days=days, retention_action=action)


def test_no_rule_keeps_everything(organization, history):
    call_command("apply_retention")
    assert Ticket.objects.filter(redacted_at__isnull=False).count() == 0
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_APPLIED).exists()


def test_anonymize_erases_old_closed_tickets_and_keeps_them_countable(
    organization, history, django_capture_on_commit_callbacks
):
    _rule(organization, 30)
    old_file = Attachment.objects.get(message__ticket=history["old"])
    storage, name = old_file.file.storage, old_file.file.name
    assert storage.exists(name)
    total = Ticket.objects.filter(organization=organization).count()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("apply_retention")

    old = Ticket.objects.get(pk=history["old"].pk)
    assert old.redacted_at is not None
    assert old.subject == "[erased]"
    assert old.status == Ticket.Status.CLOSED
    assert not Message.objects.filter(ticket=old, body__contains="Old words").exists()
    assert not Attachment.objects.filter(message__ticket=old).exists()
    assert not storage.exists(name)
    assert TicketEvent.objects.filter(ticket=old, action=TicketEvent.Action.CONTENTS_ERASED).count() == 1
    assert Ticket.objects.filter(organization=organization).count() == total
    # The recent closed ticket, the open one and the other organization's are untouched.
    for key in ("recent", "open", "foreign"):
        ticket = Ticket.objects.get(pk=history[key].pk)
        assert ticket.redacted_at is None and ticket.subject == history[key].subject
    assert organization.tickets.search("Albatross").count() == 0

    audit = AuditEvent.objects.get(action=AuditEvent.Action.RETENTION_APPLIED)
    assert audit.organization_id == organization.pk
    assert audit.changes == {"action": "anonymize", "days": 30, "tickets": 1}
    assert audit.actor_label == "Retention rule"

    # A second pass finds nothing new.
    call_command("apply_retention")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION_APPLIED).count() == 1


def test_the_recent_ticket_is_anonymized_once_it_is_old_enough(organization, history, time_machine):
    _rule(organization, 30)
    call_command("apply_retention")
    assert Ticket.objects.get(pk=history["recent"].pk).redacted_at is None
    time_machine.shift(dt.timedelta(days=21))
    call_command("apply_retention")
    assert Ticket.objects.get(pk=history["recent"].pk).redacted_at is not None
    assert Ticket.objects.get(pk=history["open"].pk).redacted_at is None


def test_delete_removes_old_closed_tickets_with_their_messages_and_files(
    organization, history, django_capture_on_commit_callbacks
):
    _rule(organization, 30, "delete")
    old_file = Attachment.objects.get(message__ticket=history["old"])
    storage, name = old_file.file.storage, old_file.file.name

    with django_capture_on_commit_callbacks(execute=True):
        call_command("apply_retention")

    assert not Ticket.objects.filter(pk=history["old"].pk).exists()
    assert not Message.objects.filter(ticket_id=history["old"].pk).exists()
    assert not TicketEvent.objects.filter(ticket_id=history["old"].pk).exists()
    assert not storage.exists(name)
    assert set(Ticket.objects.values_list("pk", flat=True)) == {
        history["recent"].pk,
        history["open"].pk,
        history["foreign"].pk,
    }
    audit = AuditEvent.objects.get(action=AuditEvent.Action.RETENTION_APPLIED)
    assert audit.changes == {"action": "delete", "days": 30, "tickets": 1}


def test_the_rule_is_set_by_owners_on_the_settings_page(client, organization, owner, agent, history):
    client.force_login(agent)
    assert client.get("/desk/settings/retention/").status_code == 403

    client.force_login(owner)
    page = client.get("/desk/settings/retention/")
    assert page.status_code == 200
    assert "private" in page["Cache-Control"] and "no-store" in page["Cache-Control"]
    refused = client.post("/desk/settings/retention/", {"retention_days": "0", "retention_action": "delete"})
    assert refused.status_code == 400
    organization.refresh_from_db()
    assert organization.retention_days is None

    saved = client.post("/desk/settings/retention/", {"retention_days": "30", "retention_action": "delete"})
    assert saved.status_code == 302
    organization.refresh_from_db()
    assert (organization.retention_days, organization.retention_action) == (30, "delete")
    assert "1 closed ticket is past the rule now" in client.get("/desk/settings/retention/").content.decode()
    audit = AuditEvent.objects.get(action=AuditEvent.Action.ORGANIZATION_UPDATED)
    assert audit.changes["retention_days"] == {"before": None, "after": 30}
