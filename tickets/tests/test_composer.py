"""The composer: one submit with the sidebar, drafts, 64 Ki characters, one send per press."""

import pytest
from django.urls import reverse

from tickets import limits, services
from tickets.actors import Actor
from tickets.models import Delivery, Draft, Message, Ticket

pytestmark = pytest.mark.django_db


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def send(client, ticket, **data):
    return client.post(reverse("dashboard:add_message", args=[ticket.public_id]), {"kind": "reply", **data})


def sidebar(ticket, **changed) -> dict:
    """The sidebar's fields as the page's script copies them into the composer."""
    shown = {
        "status_was": ticket.status,
        "status": ticket.status,
        "assignee": str(ticket.assignee_id or "none"),
        "priority": ticket.priority,
        "category": ticket.category,
        "tags": "",
        "tags_was": "",
    }
    shown.update(changed)
    return {f"property-{name}": value for name, value in shown.items()}


# One submit (item 4) -------------------------------------------------------------------------


def test_sending_applies_the_sidebar_changes_in_the_same_call(agent_client, ticket, owner):
    response = send(
        agent_client,
        ticket,
        body="Escalating this.",
        submission="s1",
        **sidebar(ticket, priority="urgent", assignee=str(owner.pk), tags="vip"),
    )

    assert response.status_code == 302
    ticket = reload(ticket)
    assert (ticket.priority, ticket.assignee, [tag.name for tag in ticket.tags.all()]) == (
        "urgent",
        owner,
        ["vip"],
    )
    assert ticket.messages.last().body == "Escalating this."


def test_a_refused_sidebar_change_sends_nothing_and_says_why(agent_client, ticket):
    response = send(
        agent_client, ticket, body="Hello", submission="s1", **sidebar(ticket, assignee="nobody@nowhere")
    )

    assert response.status_code == 400
    assert ticket.messages.count() == 1
    assert "Hello" in response.content.decode(), "what was typed stays in the composer"
    assert 'data-testid="composer-error"' in response.content.decode()


def test_an_untouched_sidebar_asks_for_nothing(agent_client, ticket, owner):
    services.assign(ticket=ticket, assignee=owner, actor=Actor.agent(owner))
    ticket = reload(ticket)
    send(agent_client, ticket, body="Reply", submission="s1", **sidebar(ticket))
    ticket = reload(ticket)
    assert ticket.assignee == owner and ticket.priority == "normal"


# Drafts (item 5) -----------------------------------------------------------------------------


def test_a_draft_is_kept_restored_on_return_and_removed_on_send(agent_client, ticket, agent):
    url = reverse("dashboard:save_draft", args=[ticket.public_id])
    assert agent_client.post(url, {"body": "Half a thought", "kind": "note"}).status_code == 200
    assert Draft.objects.get(ticket=ticket, user=agent).body == "Half a thought"

    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert ">Half a thought</textarea>" in page
    assert 'value="note" checked' in page
    assert "Draft restored" in page

    send(agent_client, ticket, body="Half a thought, finished.", submission="s1")
    assert not Draft.objects.filter(ticket=ticket).exists()


def test_drafts_are_per_agent(client, ticket, agent, owner):
    client.force_login(agent)
    client.post(reverse("dashboard:save_draft", args=[ticket.public_id]), {"body": "Mine"})
    client.force_login(owner)
    page = client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert ">Mine</textarea>" not in page


def test_an_emptied_composer_removes_the_draft(agent_client, ticket):
    url = reverse("dashboard:save_draft", args=[ticket.public_id])
    agent_client.post(url, {"body": "Something"})
    agent_client.post(url, {"body": "   "})
    assert not Draft.objects.exists()


def test_drafts_of_another_organization_ticket_are_404(client, other_organization, ticket):
    from tickets.tests import factories

    outsider = factories.make_agent(other_organization)
    client.force_login(outsider)
    response = client.post(reverse("dashboard:save_draft", args=[ticket.public_id]), {"body": "x"})
    assert response.status_code == 404
    assert not Draft.objects.exists()


# 64 Ki characters, errors by the field (item 5) -----------------------------------------------


def test_a_long_log_is_accepted_whole(agent_client, ticket):
    log = ("2026-03-02 09:00:00 ERROR something failed\n" * 1600)[: limits.MESSAGE_MAX_LENGTH]
    assert len(log) > 60_000

    response = send(agent_client, ticket, body=log, submission="s1")

    assert response.status_code == 302
    assert ticket.messages.last().body == log.strip()


def test_a_log_the_counter_allows_is_accepted_with_the_line_breaks_browsers_send(agent_client, ticket):
    """The composer counts a line break as one character (the textarea's value); the browser
    submits it as CR LF. A log the counter shows under the limit must not be refused for it,
    neither as a message nor as a draft."""
    log = "2026-03-02 09:00:00 ERROR something failed\n" * 1500  # 64,500 characters in the box
    assert len(log) <= limits.MESSAGE_MAX_LENGTH < len(log.replace("\n", "\r\n"))
    submitted = log.replace("\n", "\r\n")

    draft = agent_client.post(reverse("dashboard:save_draft", args=[ticket.public_id]), {"body": submitted})
    assert draft.status_code == 200, draft.content
    assert Draft.objects.get(ticket=ticket).body == log

    response = send(agent_client, ticket, body=submitted, submission="s1")

    assert response.status_code == 302
    assert ticket.messages.last().body == log.strip()


@pytest.mark.parametrize("face", ["new ticket", "new email", "private page"])
def test_every_message_form_counts_a_line_break_once(agent_client, client, ticket, inbox, face):
    log = "line\n" * 13_000  # 65,000 characters in the box, 78,000 as submitted
    submitted = log.replace("\n", "\r\n")
    before = Message.objects.count()
    if face == "private page":
        response = client.post(f"{ticket.private_path}reply/", {"body": submitted})
    else:
        url = reverse("dashboard:new_ticket" if face == "new ticket" else "dashboard:new_conversation")
        response = agent_client.post(
            url,
            {
                "inbox": inbox.public_id,
                "email": "caller@example.test",
                "subject": "Long log",
                "message": submitted,
                "priority": "normal",
            },
        )
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Message.objects.count() == before + 1
    assert Message.objects.order_by("-id").first().body == log.strip()


def test_beyond_the_limit_the_error_is_by_the_field_and_the_text_stays(agent_client, ticket):
    too_long = "x" * (limits.MESSAGE_MAX_LENGTH + 1)

    response = send(agent_client, ticket, body=too_long, submission="s1")

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="body-error"' in page and "65536" in page
    assert 'aria-invalid="true"' in page
    assert too_long in page
    assert ticket.messages.count() == 1


def test_the_native_api_and_the_services_share_the_limit(api, ticket):
    url = f"/api/v1/tickets/{ticket.public_id}/messages"
    assert api.post(url, {"body": "y" * limits.MESSAGE_MAX_LENGTH}, format="json").status_code == 201
    assert api.post(url, {"body": "y" * (limits.MESSAGE_MAX_LENGTH + 1)}, format="json").status_code == 400


def test_the_composer_shows_a_counter_near_the_limit(agent_client, ticket):
    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert f'data-max-length="{limits.MESSAGE_MAX_LENGTH}"' in page
    assert "data-body-counter" in page
    assert "maxlength=" not in page.split('id="id_body"')[1].split(">")[0], (
        "pasted text is never cut silently"
    )


# One send per press (item 5) ----------------------------------------------------------------


def test_a_double_submit_sends_once_and_emails_once(
    agent_client, ticket, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAIL_SENDER = "console"  # deliveries recorded; tests send to memory
    with django_capture_on_commit_callbacks(execute=True):
        first = send(agent_client, ticket, body="Refund issued.", submission="press-1")
    with django_capture_on_commit_callbacks(execute=True):
        second = send(agent_client, ticket, body="Refund issued.", submission="press-1")

    assert first.status_code == second.status_code == 302
    assert ticket.messages.filter(body="Refund issued.").count() == 1
    assert Delivery.objects.filter(kind=Delivery.Kind.AGENT_REPLY).count() == 1


def test_each_rendered_composer_has_its_own_token(agent_client, ticket):
    first = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    second = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()

    def token(page):
        return page.split('name="submission" value="')[1].split('"')[0]

    assert token(first) and token(first) != token(second)

    send(agent_client, ticket, body="One", submission=token(first))
    send(agent_client, ticket, body="Two", submission=token(second))
    assert list(ticket.messages.filter(author_type="agent").values_list("body", flat=True)) == ["One", "Two"]
    assert Message.objects.filter(ticket=ticket).count() == 3
