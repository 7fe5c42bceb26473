"""The private ticket page: whoever holds the link acts as the ticket's customer."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tickets import services
from tickets.actors import Actor
from tickets.models import Message, Ticket, TicketEvent
from tickets.portal import ratelimit
from tickets.tests import factories
from tickets.tests.test_injection import executable_parts

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND"
    b"\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield


@pytest.fixture
def conversation(ticket, agent):
    """A ticket with an agent's public reply and an internal note."""
    services.add_message(ticket=ticket, body="We are **on it**.", actor=Actor.agent(agent))
    services.add_message(
        ticket=ticket, body="SECRET NOTE: refund was abused", kind="note", actor=Actor.agent(agent)
    )
    ticket.refresh_from_db()
    return ticket


def _page(client, ticket):
    return client.get(ticket.private_path)


def test_private_page_shows_the_public_thread_and_hides_internal_notes(client, conversation):
    response = _page(client, conversation)
    assert response.status_code == 200
    html = response.content.decode()
    assert conversation.subject in html
    assert conversation.reference in html
    assert "Help me please." in html
    assert "We are <strong>on it</strong>." in html
    assert "SECRET NOTE" not in html
    assert "In progress" in html


def test_private_page_is_never_sent_on_indexed_or_cached(client, ticket):
    response = _page(client, ticket)
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_private_page_keeps_to_the_content_security_policy(client, ticket):
    response = _page(client, ticket)
    html = response.content.decode()
    assert "Content-Security-Policy" in response
    assert " style=" not in html
    # Every script is a file from our origin: nothing inline needs a nonce here.
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


def test_script_and_onerror_payloads_in_messages_are_escaped(client, inbox):
    ticket = factories.make_ticket(
        inbox,
        message='<script>alert("owned")</script> and <img src=x onerror=alert(1)> '
        '[click](javascript:alert(2)) <a href="#" onclick="alert(3)">x</a>',
    )
    html = _page(client, ticket).content.decode()
    # Shown as the text it is, never as markup (tickets/rendering.py).
    assert executable_parts(html) == []
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "javascript:alert" not in html
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in html or "&lt;script&gt;alert(" in html


def test_a_wrong_key_is_a_plain_404(client, ticket):
    response = client.get(f"/t/{ticket.public_id}/tk_wrongwrongwrongwrong/")
    assert response.status_code == 404
    html = response.content.decode()
    assert ticket.subject not in html
    assert ticket.reference not in html


def test_another_tickets_key_is_a_404(client, inbox):
    first = factories.make_ticket(inbox)
    second = factories.make_ticket(inbox)
    response = client.get(f"/t/{first.public_id}/{second.access_key}/")
    assert response.status_code == 404


def test_an_unknown_ticket_answers_exactly_like_a_wrong_key(client, ticket):
    wrong_key = client.get(f"/t/{ticket.public_id}/tk_nope/")
    unknown = client.get(f"/t/01HZZZZZZZZZZZZZZZZZZZZZZZ/{ticket.access_key}/")
    assert wrong_key.status_code == unknown.status_code == 404
    assert wrong_key.content == unknown.content


def test_guessing_keys_is_throttled_per_address_even_for_the_right_key(client, ticket):
    for _ in range(ratelimit.KEY_GUESSES.limit):
        assert client.get(f"/t/{ticket.public_id}/tk_guess/").status_code == 404
    response = _page(client, ticket)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    # Another address is not held back by this one's guessing.
    assert Client(REMOTE_ADDR="10.0.0.9").get(ticket.private_path).status_code == 200


def test_a_reply_goes_through_the_service_and_is_recorded(client, ticket):
    response = client.post(f"{ticket.private_path}reply/", {"body": "Here is *more* detail."})
    assert response.status_code == 302
    assert response["Location"].startswith(ticket.private_path)
    message = ticket.messages.order_by("-id").first()
    assert message.body == "Here is *more* detail."
    assert message.author_customer == ticket.customer
    assert message.author_type == Message.AuthorType.CUSTOMER
    assert message.channel == Ticket.Channel.WEB
    event = ticket.events.get(action=TicketEvent.Action.REPLIED)
    assert event.actor_customer == ticket.customer
    followed = client.get(response["Location"])
    assert "Here is <em>more</em> detail." in followed.content.decode()
    assert "Your reply was sent." in followed.content.decode()


def test_a_reply_with_attachments_stores_them_with_our_content_type(client, ticket):
    files = [
        SimpleUploadedFile("screen.png", PNG, content_type="text/html"),
        SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"),
    ]
    response = client.post(
        f"{ticket.private_path}reply/", {"body": "Screenshots attached", "attachments": files}
    )
    assert response.status_code == 302
    message = ticket.messages.order_by("-id").first()
    stored = {attachment.filename: attachment for attachment in message.attachments.all()}
    assert set(stored) == {"screen.png", "notes.txt"}
    assert stored["screen.png"].content_type == "image/png"
    assert stored["screen.png"].size == len(PNG)


def test_a_file_of_a_type_not_allowed_is_refused(client, ticket):
    upload = SimpleUploadedFile("page.html", b"<script>alert(1)</script>", content_type="image/png")
    response = client.post(f"{ticket.private_path}reply/", {"body": "see file", "attachments": [upload]})
    assert response.status_code == 400
    assert "cannot be attached" in response.content.decode()
    assert ticket.messages.count() == 1


def test_a_file_over_the_size_limit_is_refused(client, ticket, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
    response = client.post(f"{ticket.private_path}reply/", {"body": "see file", "attachments": [upload]})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert ticket.messages.count() == 1


def test_an_empty_reply_is_refused_with_the_form_error(client, ticket):
    response = client.post(f"{ticket.private_path}reply/", {"body": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert ticket.messages.count() == 1


def test_a_reply_to_a_resolved_ticket_reopens_it(client, ticket, agent):
    services.change_status(ticket=ticket, status="resolved", actor=Actor.agent(agent))
    client.post(f"{ticket.private_path}reply/", {"body": "It broke again."})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    reopened = ticket.events.filter(action=TicketEvent.Action.STATUS_CHANGED).last()
    assert (reopened.before, reopened.after) == ("resolved", "open")
    assert reopened.actor_customer == ticket.customer


def test_the_customer_can_close_their_ticket(client, ticket):
    response = client.post(f"{ticket.private_path}close/")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    event = ticket.events.get(action=TicketEvent.Action.STATUS_CHANGED)
    assert (event.before, event.after, event.actor_customer) == ("open", "closed", ticket.customer)
    page = client.get(ticket.private_path).content.decode()
    assert "This ticket is closed." in page
    assert 'name="body"' not in page


def test_a_closed_ticket_takes_no_reply(client, ticket):
    services.change_status(ticket=ticket, status="closed", actor=Actor.for_customer(ticket.customer))
    response = client.post(f"{ticket.private_path}reply/", {"body": "hello?"}, follow=True)
    assert "closed" in response.content.decode()
    assert ticket.messages.count() == 1


def test_the_customer_can_reopen_a_resolved_ticket(client, ticket, agent):
    services.change_status(ticket=ticket, status="resolved", actor=Actor.agent(agent))
    assert "Reopen ticket" in client.get(ticket.private_path).content.decode()
    client.post(f"{ticket.private_path}reopen/")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.events.filter(action="status_changed", actor_customer=ticket.customer).exists()


def test_only_a_resolved_ticket_can_be_reopened(client, ticket):
    services.change_status(ticket=ticket, status="closed", actor=Actor.for_customer(ticket.customer))
    response = client.post(f"{ticket.private_path}reopen/", follow=True)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert "Only a resolved ticket can be reopened." in response.content.decode()


def test_actions_need_the_right_key_too(client, ticket):
    assert client.post(f"/t/{ticket.public_id}/tk_nope/close/").status_code == 404
    assert client.post(f"/t/{ticket.public_id}/tk_nope/reply/", {"body": "x"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.messages.count() == 1


def test_actions_are_post_only(client, ticket):
    assert client.get(f"{ticket.private_path}close/").status_code == 405
    assert client.post(ticket.private_path).status_code == 405


def test_forms_on_the_page_are_protected_by_csrf(ticket):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"{ticket.private_path}reply/", {"body": "hi"}).status_code == 403
    assert strict.post(f"{ticket.private_path}close/").status_code == 403


def _csrf_client_with_token(ticket) -> tuple[Client, str]:
    strict = Client(enforce_csrf_checks=True)
    html = strict.get(ticket.private_path).content.decode()
    return strict, re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_the_pages_own_forms_post_with_the_null_origin_that_no_referrer_makes(ticket):
    # Browsers send "Origin: null" from a page with Referrer-Policy: no-referrer; the CSRF
    # token still has to match.
    strict, token = _csrf_client_with_token(ticket)
    response = strict.post(
        f"{ticket.private_path}reply/",
        {"body": "from the page", "csrfmiddlewaretoken": token},
        HTTP_ORIGIN="null",
    )
    assert response.status_code == 302
    assert ticket.messages.filter(body="from the page").exists()
    forged = strict.post(f"{ticket.private_path}reply/", {"body": "forged"}, HTTP_ORIGIN="null")
    assert forged.status_code == 403


def test_a_post_from_another_site_is_refused_even_with_a_token(ticket):
    strict, token = _csrf_client_with_token(ticket)
    response = strict.post(
        f"{ticket.private_path}close/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_attachments_download_through_the_private_link_only(client, ticket, agent):
    services.add_message(
        ticket=ticket,
        body="Invoice attached",
        actor=Actor.agent(agent),
        attachments=[services.UploadedFile("invoice.pdf", "application/pdf", b"%PDF-1.4 test")],
    )
    services.add_message(
        ticket=ticket,
        body="internal file",
        kind="note",
        actor=Actor.agent(agent),
        attachments=[services.UploadedFile("internal.txt", "text/plain", b"secret")],
    )
    public = ticket.messages.get(body="Invoice attached").attachments.get()
    internal = ticket.messages.get(body="internal file").attachments.get()
    url = f"{ticket.private_path}attachments/{public.public_id}/"

    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/pdf"
    assert response["Referrer-Policy"] == "no-referrer"

    assert "invoice.pdf" in client.get(ticket.private_path).content.decode()
    assert client.get(f"/t/{ticket.public_id}/tk_wrong/attachments/{public.public_id}/").status_code == 404
    assert client.get(f"{ticket.private_path}attachments/{internal.public_id}/").status_code == 404
    other = factories.make_ticket(ticket.inbox)
    assert client.get(f"{other.private_path}attachments/{public.public_id}/").status_code == 404


def test_a_rotated_key_closes_the_old_link(client, ticket, api):
    old_path = ticket.private_path
    response = api.post(f"/api/v1/tickets/{ticket.public_id}/rotate-private-link")
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert client.get(old_path).status_code == 404
    assert client.get(ticket.private_path).status_code == 200
    assert ticket.events.filter(action=TicketEvent.Action.ACCESS_KEY_ROTATED).exists()


def test_the_page_reads_a_long_thread_in_a_fixed_number_of_queries(
    client, ticket, agent, django_assert_max_num_queries
):
    for number in range(12):
        services.add_message(ticket=ticket, body=f"Reply {number}", actor=Actor.agent(agent))
        services.add_message(
            ticket=ticket, body=f"Answer {number}", actor=Actor.for_customer(ticket.customer)
        )
    with django_assert_max_num_queries(10):
        response = _page(client, ticket)
    assert response.content.decode().count('class="bubble ') == 25


def test_the_thread_is_rendered_once_and_again_when_a_message_arrives(
    client, ticket, agent, django_assert_num_queries
):
    _page(client, ticket)
    ticket.refresh_from_db()
    # The guess counter of the client's address, the ticket, and the thread's fragment from
    # the (database) cache instead of its messages.
    with django_assert_num_queries(3):
        cached = _page(client, ticket)

    services.add_message(ticket=ticket, body="A **fresh** answer", actor=Actor.agent(agent))
    fresh = _page(client, ticket)

    assert cached.content.decode().count('class="bubble ') == 1
    assert "<strong>fresh</strong>" in fresh.content.decode()
    assert fresh.content.decode().count('class="bubble ') == 2


def test_times_on_the_private_page_name_their_time_zone(client, conversation):
    """A customer anywhere in the world reads "14:05 UTC", not a bare "14:05"."""
    html = _page(client, conversation).content.decode()

    opened = re.search(r"Opened [^<]*", html).group(0)
    assert re.search(r"\d\d:\d\d UTC", opened), opened
    stamps = re.findall(r"<time datetime=[^>]*>([^<]*)</time>", html)
    assert stamps and all(re.search(r"\d\d:\d\d UTC$", stamp) for stamp in stamps), stamps
