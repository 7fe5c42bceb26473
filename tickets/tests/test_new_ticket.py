"""An agent opens a ticket for a customer on the phone or at the desk."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets.models import Ticket
from tickets.tests.test_mail_outbound import mail_settings  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db


def test_an_agent_opens_a_ticket_for_a_caller(agent_client, inbox, agent):
    page = agent_client.get(reverse("dashboard:new_ticket"))
    assert page.status_code == 200
    assert 'data-testid="new-ticket-form"' in page.content.decode()

    response = agent_client.post(
        reverse("dashboard:new_ticket"),
        {
            "inbox": inbox.public_id,
            "email": "caller@example.test",
            "name": "Carla Caller",
            "subject": "Phone: cannot log in",
            "message": "Called at 10:05, locked out after a password reset.",
            "priority": "high",
        },
    )

    ticket = Ticket.objects.get(subject="Phone: cannot log in")
    assert response.status_code == 302 and ticket.public_id in response["Location"]
    assert (ticket.channel, ticket.priority, ticket.customer.email) == (
        "agent",
        "high",
        "caller@example.test",
    )
    first = ticket.messages.get()
    assert first.body == "Called at 10:05, locked out after a password reset."
    assert ticket.events.get(action="created").actor_user == agent


def test_pressing_open_twice_opens_one_ticket_and_sends_one_confirmation(
    agent_client,
    inbox,
    mail_settings,  # noqa: F811
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    page = agent_client.get(reverse("dashboard:new_ticket"))
    form = {
        "inbox": inbox.public_id,
        "email": "caller@example.test",
        "name": "Carla Caller",
        "subject": "Phone: cannot log in",
        "message": "Called at 10:05, locked out after a password reset.",
        "priority": "normal",
        "submission": page.context["form"].initial["submission"],
    }

    with django_capture_on_commit_callbacks(execute=True):
        first = agent_client.post(reverse("dashboard:new_ticket"), form)
        again = agent_client.post(reverse("dashboard:new_ticket"), form)

    ticket = Ticket.objects.get()
    assert first.status_code == 302 and again["Location"] == first["Location"]
    assert [mail.to for mail in mailoutbox].count(["caller@example.test"]) == 1
    # A fresh form is a new ticket, even with the same words: a second caller may say them.
    fresh = agent_client.get(reverse("dashboard:new_ticket")).context["form"].initial["submission"]
    agent_client.post(reverse("dashboard:new_ticket"), {**form, "submission": fresh})
    assert Ticket.objects.exclude(pk=ticket.pk).count() == 1


def test_a_file_the_caller_sent_joins_their_first_message(agent_client, inbox, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    screenshot = SimpleUploadedFile("error.png", b"\x89PNG the error", content_type="image/png")

    response = agent_client.post(
        reverse("dashboard:new_ticket"),
        {
            "inbox": inbox.public_id,
            "email": "caller@example.test",
            "subject": "Phone: error on checkout",
            "message": "Sent us a screenshot by chat.",
            "priority": "normal",
            "attachments": [screenshot],
        },
    )

    assert response.status_code == 302
    first = Ticket.objects.get().messages.get()
    assert [(a.filename, a.file.read()) for a in first.attachments.all()] == [
        ("error.png", b"\x89PNG the error")
    ]


def test_bad_input_is_shown_by_the_field_and_opens_nothing(agent_client, inbox):
    response = agent_client.post(
        reverse("dashboard:new_ticket"),
        {
            "inbox": inbox.public_id,
            "email": "not an email",
            "subject": "x",
            "message": "",
            "priority": "normal",
        },
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    page = response.content.decode()
    assert page.count('class="error"') >= 3


def test_another_organization_inbox_cannot_be_chosen(agent_client, inbox, other_inbox):
    agent_client.post(
        reverse("dashboard:new_ticket"),
        {
            "inbox": other_inbox.public_id,
            "email": "caller@example.test",
            "subject": "Phone call",
            "message": "Hello",
            "priority": "normal",
        },
    )
    assert not Ticket.objects.exists()


def test_the_queue_offers_a_new_ticket(agent_client):
    assert 'data-testid="new-ticket"' in agent_client.get(reverse("dashboard:queue")).content.decode()
