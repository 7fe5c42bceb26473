"""After a merge, the duplicate's customer finds the conversation on the target: their
email replies and their private link lead there (issue 16, item 9)."""

import pytest
from django.core import mail

from tickets import services
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.tests import factories
from tickets.tests.test_mail_inbound import (
    mail_settings,  # noqa: F401 - the same provider settings as the inbound tests
    make_email,
    post_sendgrid,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return factories.make_ticket(
            inbox, email="jane@example.com", subject="Refund please", name="Jane Doe"
        )


@pytest.fixture
def source(inbox, target, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return factories.make_ticket(
            inbox, email="john@example.com", subject="Refund for Jane", name="John Doe"
        )


@pytest.fixture
def johns_confirmation(source):
    email = next(email for email in mail.outbox if email.to == ["john@example.com"])
    mail.outbox.clear()
    return email


def merge(source, target, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_tickets(source=source, target=target, actor=Actor.agent(agent))


def send(client, django_capture_on_commit_callbacks, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_sendgrid(client, make_email(**fields)).status_code == 200


def test_a_reply_to_the_merged_tickets_mail_lands_on_the_target(
    client, source, target, johns_confirmation, agent, django_capture_on_commit_callbacks
):
    merge(source, target, agent, django_capture_on_commit_callbacks)
    # Merging told John nothing: his conversation goes on.
    assert mail.outbox == []
    message_id = johns_confirmation.extra_headers["Message-ID"]

    send(
        client,
        django_capture_on_commit_callbacks,
        sender="John Doe <john@example.com>",
        to=johns_confirmation.reply_to[0],
        subject=f"Re: {johns_confirmation.subject}",
        text="Any news on the refund?",
        headers={"In-Reply-To": message_id, "References": message_id},
        message_id="<john-2@mail.example.com>",
    )

    assert Ticket.objects.count() == 2
    latest = target.messages.order_by("created_at", "id").last()
    assert latest.body == "Any news on the refund?"
    assert latest.author_customer.email == "john@example.com"
    assert latest.kind == "reply"
    source.refresh_from_db()
    assert source.messages.count() == 0
    assert source.status == Ticket.Status.CLOSED


def test_a_reply_naming_the_merged_reference_in_the_subject_lands_on_the_target(
    client, source, target, johns_confirmation, agent, django_capture_on_commit_callbacks
):
    merge(source, target, agent, django_capture_on_commit_callbacks)

    send(
        client,
        django_capture_on_commit_callbacks,
        sender="John Doe <john@example.com>",
        subject=f"Re: [{source.reference}] Refund for Jane",
        text="Hello again.",
        message_id="<john-3@mail.example.com>",
    )

    assert target.messages.order_by("created_at", "id").last().body == "Hello again."
    assert Ticket.objects.count() == 2


def test_the_merged_tickets_private_link_opens_the_target(
    client, source, target, agent, django_capture_on_commit_callbacks
):
    merge(source, target, agent, django_capture_on_commit_callbacks)

    response = client.get(source.private_path, follow=True)

    assert response.redirect_chain == [(target.private_path, 302)]
    assert response.status_code == 200
    page = response.content.decode()
    assert f"continues here, as {target.reference}" in page
    assert "Refund please" in page
    # A reply posted from the old page joins the target too, never the closed duplicate.
    posted = client.post(f"{source.private_path}reply/", {"body": "From the old page"})
    assert posted.status_code == 302
    assert posted["Location"] == target.private_path


def test_a_wrong_key_on_a_merged_ticket_is_still_a_plain_404(
    client, source, target, agent, django_capture_on_commit_callbacks
):
    merge(source, target, agent, django_capture_on_commit_callbacks)
    wrong = source.private_path.replace(source.access_key, "tk_" + "x" * 32)
    assert client.get(wrong).status_code == 404


def test_a_dialect_reads_a_merged_ticket_as_closed_in_its_own_words(
    source, target, agent, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    merge(source, target, agent, django_capture_on_commit_callbacks)
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(agent)[1]}")
    base = "/compat/inapp/v1/admin/support/tickets"

    shown = admin.get(f"{base}/{source.public_id}")

    assert shown.status_code == 200, shown.content
    assert shown.json()["status"] == "closed"
    assert "merged" not in shown.content.decode()
    listed = admin.get(base, {"status": "closed"}).json()["data"]
    assert [row["id"] for row in listed] == [source.public_id]
