"""The ticket page and its actions: each one through a service, each one an event."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tickets import services
from tickets.actors import Actor
from tickets.models import Delivery, Message, Ticket, TicketEvent
from tickets.tests import factories


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rich_ticket(inbox, agent, owner):
    """A conversation with both sides, a note, an event and a delivery."""
    ticket, _ = services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(
            email="jane@example.test",
            name="Jane Doe",
            external_id="usr_42",
            metadata={"plan": "pro", "token_balance": 1200},
        ),
        subject="Charged twice",
        message="I was charged **twice** <script>alert(1)</script>",
        actor=Actor.system("Tests"),
        metadata={"order": "A-77"},
    )
    reply, _ = services.add_message(ticket=ticket, body="Looking into it.", actor=Actor.agent(agent))
    services.add_message(ticket=ticket, body="Refund via Stripe", kind="note", actor=Actor.agent(owner))
    Delivery.objects.create(
        ticket=ticket, message=reply, recipient="jane@example.test", kind="agent_reply", status="sent"
    )
    return ticket


def url(ticket, name="dashboard:ticket"):
    return reverse(name, args=[ticket.public_id])


# The page -------------------------------------------------------------------------------


def test_ticket_page_shows_the_whole_thread_with_notes_set_apart(agent_client, rich_ticket):
    response = agent_client.get(url(rich_ticket))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Charged twice" in html
    assert "<strong>twice</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "Looking into it." in html
    assert 'class="message-card is-note"' in html and "Internal note" in html
    assert 'class="message-card is-customer"' in html
    assert 'class="message-card is-agent"' in html
    # The agent's reply moved the ticket on: that event sits in the timeline.
    assert "changed the status from open to in progress" in html


def test_ticket_page_shows_the_customer_sidebar(agent_client, rich_ticket, inbox):
    earlier = factories.make_ticket(inbox, email="jane@example.test", subject="An earlier question")
    html = agent_client.get(url(rich_ticket)).content.decode()
    assert "jane@example.test" in html
    assert "usr_42" in html
    assert "token_balance" in html and "1200" in html and "pro" in html
    assert earlier.reference in html and url(earlier) in html
    assert "A-77" in html  # the ticket's own metadata


def test_ticket_page_shows_delivery_status_per_message(agent_client, rich_ticket):
    html = agent_client.get(url(rich_ticket)).content.decode()
    assert "delivery delivery-sent" in html
    assert "jane@example.test · Sent" in html


def test_ticket_page_documents_its_keyboard_shortcuts(agent_client, rich_ticket):
    html = agent_client.get(url(rich_ticket)).content.decode()
    assert 'id="shortcuts-help"' in html
    for key in ("<kbd>r</kbd>", "<kbd>n</kbd>", "<kbd>j</kbd>", "<kbd>?</kbd>"):
        assert key in html


def test_next_ticket_follows_the_queue_the_agent_came_from(agent_client, inbox):
    first = factories.make_ticket(inbox, subject="First one")
    second = factories.make_ticket(inbox, subject="Second one")
    queue = agent_client.get(reverse("dashboard:queue") + "?view=all&sort=created")
    link = url(first) + "?queue=view%3Dall%26sort%3Dcreated"
    assert f'href="{link}"' in queue.content.decode()

    response = agent_client.get(link)
    assert response.context["next_ticket"] == second.public_id
    assert response.context["queue_url"].endswith("?view=all&sort=created")
    assert f'href="{url(second)}?queue=view%3Dall%26sort%3Dcreated"' in response.content.decode()
    response = agent_client.get(response.context["next_url"])
    assert response.context["previous_ticket"] == first.public_id
    assert response.context["next_ticket"] is None
    # Opened from elsewhere (a link, a notification): no queue, no neighbours.
    assert agent_client.get(url(first)).context["next_ticket"] is None


def test_a_reply_comes_back_to_the_ticket_with_the_queue_it_was_opened_from(agent_client, inbox):
    first = factories.make_ticket(inbox, subject="First one")
    factories.make_ticket(inbox, subject="Second one")

    response = agent_client.post(
        reverse("dashboard:add_message", args=[first.public_id]) + "?queue=view%3Dall%26sort%3Dcreated",
        {"kind": "reply", "body": "On it."},
    )

    assert response.status_code == 302
    assert response["Location"] == url(first) + "?queue=view%3Dall%26sort%3Dcreated"


def test_browsing_and_polling_write_nothing_to_the_database(agent_client, inbox, agent, settings):
    # The ticket page notes who is viewing it in the shared cache (Redis in production;
    # process memory here): the database cache would make that note an INSERT.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ticket = factories.make_ticket(inbox)
    services.add_message(ticket=ticket, body="On it.", actor=Actor.agent(agent))
    agent_client.get(reverse("dashboard:queue"))  # the session as signing in left it
    reads = [
        reverse("dashboard:queue"),
        reverse("dashboard:queue") + "?view=all&page=2&sort=-priority&status=open",
        reverse("dashboard:queue") + "?view=mine&q=login",
        reverse("dashboard:queue_rows") + "?view=all",
        url(ticket) + "?queue=view%3Dall",
        reverse("dashboard:ticket_timeline", args=[ticket.public_id]),
        reverse("dashboard:bell"),
    ]

    with CaptureQueriesContext(connection) as queries:
        for path in reads:
            assert agent_client.get(path).status_code == 200, path

    writes = [
        query["sql"]
        for query in queries
        if query["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []


def test_ticket_page_query_count_stays_constant_as_messages_grow(
    agent_client, inbox, agent, django_assert_max_num_queries
):
    ticket = factories.make_ticket(inbox)
    actor = Actor.agent(agent)

    def add(count):
        for number in range(count):
            message, _ = services.add_message(
                ticket=ticket,
                body=f"Message {number}",
                actor=actor,
                kind="note" if number % 2 else "reply",
                attachments=[services.UploadedFile("a.txt", "text/plain", b"hi")],
            )
            Delivery.objects.create(
                ticket=ticket, message=message, recipient="c@example.test", kind="agent_reply"
            )
        services.update_ticket(ticket=ticket, priority="high" if count % 2 else "low", actor=actor)

    add(1)  # with the customer's first message: 2
    agent_client.get(url(ticket))
    # 20 of the page and its sidebar (linked tickets among them), and with the database
    # cache the ~11 statements that note who is viewing (presence, docs/dashboard.md).
    with django_assert_max_num_queries(31) as small:
        agent_client.get(url(ticket))
    baseline = len(small.captured_queries)
    add(28)
    with django_assert_max_num_queries(baseline):
        response = agent_client.get(url(ticket))
    assert len([item for item in response.context["timeline"] if item[0] == "message"]) == 30


# Reply and note ---------------------------------------------------------------------------


def test_agent_reply_is_added_through_the_service_and_recorded(agent_client, ticket, agent):
    response = agent_client.post(url(ticket, "dashboard:add_message"), {"kind": "reply", "body": "On it!"})
    assert response.status_code == 302
    assert response["Location"] == url(ticket)
    message = ticket.messages.latest("created_at")
    assert (message.body, message.kind, message.author_user, message.channel) == (
        "On it!",
        "reply",
        agent,
        "web",
    )
    assert ticket.events.filter(action=TicketEvent.Action.REPLIED, actor_user=agent).exists()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS
    assert ticket.first_response_at is not None


def test_internal_note_is_a_note_and_does_not_count_as_a_response(agent_client, ticket, agent):
    agent_client.post(url(ticket, "dashboard:add_message"), {"kind": "note", "body": "Customer is VIP"})
    message = ticket.messages.latest("created_at")
    assert message.kind == Message.Kind.NOTE
    assert ticket.events.filter(action=TicketEvent.Action.NOTE_ADDED, actor_user=agent).exists()
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.status == Ticket.Status.OPEN


def test_reply_with_attachments_stores_them_and_agents_can_download_them(agent_client, ticket):
    files = [
        SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
        SimpleUploadedFile("notes.txt", b"plain", content_type="text/plain"),
    ]
    agent_client.post(
        url(ticket, "dashboard:add_message"), {"kind": "reply", "body": "See attached", "attachments": files}
    )
    message = ticket.messages.latest("created_at")
    attachments = list(message.attachments.order_by("filename"))
    assert [item.filename for item in attachments] == ["invoice.pdf", "notes.txt"]
    html = agent_client.get(url(ticket)).content.decode()
    download = reverse("dashboard:attachment", args=[attachments[0].public_id])
    assert download in html
    response = agent_client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]


def test_attachment_of_another_organization_is_not_found(client, other_agent, ticket):
    message, _ = services.add_message(
        ticket=ticket,
        body="file",
        actor=Actor.system(),
        attachments=[services.UploadedFile("secret.txt", "text/plain", b"secret")],
    )
    client.force_login(other_agent)
    response = client.get(reverse("dashboard:attachment", args=[message.attachments.get().public_id]))
    assert response.status_code == 404


def test_reply_can_set_the_status_in_the_same_step(agent_client, ticket, agent):
    agent_client.post(
        url(ticket, "dashboard:add_message"),
        {"kind": "reply", "body": "Fixed, closing.", "status_after": "resolved"},
    )
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.events.filter(action="status_changed", after="resolved", actor_user=agent).exists()


def test_empty_reply_is_refused_with_the_page_and_nothing_is_added(agent_client, ticket):
    count = ticket.messages.count()
    response = agent_client.post(url(ticket, "dashboard:add_message"), {"kind": "reply", "body": "  "})
    assert response.status_code == 400
    assert ticket.messages.count() == count


def test_oversized_attachment_is_refused(agent_client, ticket, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    response = agent_client.post(
        url(ticket, "dashboard:add_message"),
        {"kind": "reply", "body": "Big", "attachments": [SimpleUploadedFile("big.bin", b"x" * 11)]},
    )
    assert response.status_code == 400
    assert not ticket.messages.filter(body="Big").exists()


def test_markdown_preview_is_sanitized(agent_client):
    response = agent_client.post(
        reverse("dashboard:preview"), {"body": "**hi** <img src=x onerror=alert(1)>"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>hi</strong>" in html
    # Shown as the text that was typed, never as an element (tickets/rendering.py).
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# Properties --------------------------------------------------------------------------------


def test_properties_form_changes_each_field_through_services(agent_client, ticket, agent, owner):
    response = agent_client.post(
        url(ticket, "dashboard:update_ticket"),
        {
            "status_was": "open",
            "status": "open",
            "assignee": str(owner.pk),
            "priority": "urgent",
            "category": "billing",
            "tags": "refund, vip, refund",
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == owner
    assert ticket.priority == "urgent"
    assert ticket.category == "billing"
    assert sorted(tag.name for tag in ticket.tags.all()) == ["refund", "vip"]
    # Assigning moved it on; the untouched status select did not move it back.
    assert ticket.status == Ticket.Status.IN_PROGRESS
    events = ticket.events.filter(actor_user=agent)
    assert events.filter(action="assigned", after=owner.pk).exists()
    assert events.filter(action="updated", field="priority", after="urgent").exists()
    assert events.filter(action="updated", field="category", after="billing").exists()
    assert events.filter(action="tags_changed").exists()


def test_the_sidebar_keeps_a_tag_someone_else_added_while_the_page_was_open(
    agent_client, ticket, agent, owner
):
    services.update_ticket(ticket=ticket, tags=["billing"], actor=Actor.agent(agent))
    # The page is shown with "billing"; meanwhile another agent adds "vip".
    services.update_ticket(ticket=ticket, add_tags=["vip"], actor=Actor.agent(owner))

    agent_client.post(
        url(ticket, "dashboard:update_ticket"),
        {
            "status_was": "open",
            "status": "open",
            "priority": "high",
            "tags": "billing, refund",
            "tags_was": "billing",
        },
    )

    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert sorted(tag.name for tag in ticket.tags.all()) == ["billing", "refund", "vip"]


def test_status_change_is_recorded_and_shown_in_the_timeline(agent_client, ticket, agent):
    agent_client.post(url(ticket, "dashboard:update_ticket"), {"status_was": "open", "status": "resolved"})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert ticket.events.filter(action="status_changed", before="open", after="resolved", actor_user=agent)
    html = agent_client.get(url(ticket)).content.decode()
    assert "changed the status from open to resolved" in html


def test_illegal_status_change_is_reported_not_crashed_on(agent_client, ticket, agent):
    services.change_status(ticket=ticket, status="closed", actor=Actor.agent(agent))
    response = agent_client.post(
        url(ticket, "dashboard:update_ticket"), {"status_was": "closed", "status": "resolved"}
    )
    assert response.status_code == 302
    assert "cannot become resolved" in str(list(response.wsgi_request._messages)[-1])
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_assigning_to_someone_outside_the_organization_is_refused(agent_client, ticket, other_agent):
    agent_client.post(url(ticket, "dashboard:update_ticket"), {"assignee": str(other_agent.pk)})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_take_assigns_the_ticket_to_oneself(agent_client, ticket, agent):
    agent_client.post(url(ticket, "dashboard:take_ticket"))
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert ticket.events.filter(action="assigned", actor_user=agent).exists()


def test_rotating_the_private_link_replaces_the_key_with_an_event(agent_client, ticket, agent):
    old_key = ticket.access_key
    html = agent_client.get(url(ticket)).content.decode()
    assert ticket.private_url in html
    agent_client.post(url(ticket, "dashboard:rotate_link"))
    ticket.refresh_from_db()
    assert ticket.access_key != old_key
    assert ticket.events.filter(action="access_key_rotated", actor_user=agent).exists()
    html = agent_client.get(url(ticket)).content.decode()
    assert ticket.private_url in html
    assert "rotated the private link" in html


def test_timeline_partial_brings_a_customer_reply_without_the_page(agent_client, rich_ticket):
    customer = rich_ticket.customer
    services.add_message(ticket=rich_ticket, body="Thanks, got it!", actor=Actor.for_customer(customer))
    response = agent_client.get(url(rich_ticket, "dashboard:ticket_timeline"), headers={"HX-Request": "true"})
    html = response.content.decode().strip()
    assert html.startswith('<ol class="timeline" id="timeline"')
    assert "<html" not in html and "composer" not in html
    assert "Thanks, got it!" in html
    assert "Refund via Stripe" in html  # agents see notes here too


def test_timeline_partial_of_another_organization_is_not_found(client, other_agent, rich_ticket):
    client.force_login(other_agent)
    assert client.get(url(rich_ticket, "dashboard:ticket_timeline")).status_code == 404


def test_a_reply_through_the_page_shows_its_email_delivery(
    agent_client, ticket, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAIL_SENDER = "console"  # deliveries recorded; tests send to memory
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url(ticket, "dashboard:add_message"), {"kind": "reply", "body": "Mailed to you"})
    reply = ticket.messages.get(body="Mailed to you")
    delivery = reply.deliveries.get()
    assert delivery.kind == "agent_reply"
    html = agent_client.get(url(ticket)).content.decode()
    assert f"{delivery.recipient} · {delivery.get_status_display()}" in html
