"""Live without load (issue 16, item 13) and who else is on the ticket (item 6).

An unchanged poll is answered from the shared cache alone: no query, no session read. The
cache here is process memory, standing in for Redis (production's shared cache); with the
database cache each cache read would be a query of its own.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tickets import live, services
from tickets.actors import Actor
from tickets.tests import factories

pytestmark = pytest.mark.django_db

LOCAL_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "live-tests"}
}


@pytest.fixture(autouse=True)
def shared_cache(settings):
    settings.CACHES = LOCAL_CACHE
    from django.core.cache import cache

    cache.clear()


def token_in(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*data-live-token="([^"]+)"', html)
    assert found, f"no poll token on #{element_id}"
    return found.group(1)


def poll(client, url, token, **headers):
    return client.get(url, headers={"HX-Request": "true", "X-Live-Token": token, **headers})


def rows_url(query=""):
    return reverse("dashboard:queue_rows") + (f"?{query}" if query else "")


def timeline_url(ticket):
    return reverse("dashboard:ticket_timeline", args=[ticket.public_id])


def customer_replies(ticket, body="Any news?", capture=None):
    with capture(execute=True):
        services.add_message(ticket=ticket, body=body, actor=Actor.for_customer(ticket.customer))


# The queue -----------------------------------------------------------------------------------


def first_queue_poll(client, query=""):
    page = client.get(reverse("dashboard:queue") + (f"?{query}" if query else ""))
    # The page read no version: its first poll renders, and hands the token later polls use.
    response = poll(client, rows_url(query), token_in(page.content.decode(), "queue-live"))
    assert response.status_code == 200
    return token_in(response.content.decode(), "queue-live")


def test_an_unchanged_queue_poll_is_a_204_without_a_single_query(
    agent_client, ticket, django_assert_num_queries
):
    token = first_queue_poll(agent_client, "view=all")

    with django_assert_num_queries(0):
        response = poll(agent_client, rows_url("view=all"), token)

    assert response.status_code == 204
    assert response.content == b""
    assert "no-store" in response["Cache-Control"]


def test_a_new_ticket_makes_the_next_queue_poll_show_it(
    agent_client, inbox, ticket, django_capture_on_commit_callbacks
):
    token = first_queue_poll(agent_client)
    with django_capture_on_commit_callbacks(execute=True):
        factories.make_ticket(inbox, subject="Printer on fire", email="new@example.test")

    response = poll(agent_client, rows_url(), token)

    assert response.status_code == 200
    assert "Printer on fire" in response.content.decode()
    # The new answer carries a new token, under which the same list is unchanged again.
    fresh = token_in(response.content.decode(), "queue-live")
    assert poll(agent_client, rows_url(), fresh).status_code == 204


def test_a_token_of_one_queue_does_not_answer_for_another(agent_client, ticket):
    token = token_in(
        agent_client.get(reverse("dashboard:queue") + "?view=all").content.decode(), "queue-live"
    )

    assert poll(agent_client, rows_url("view=mine"), token).status_code == 200


def test_a_token_without_its_session_answers_nothing(agent_client, ticket, agent):
    token = first_queue_poll(agent_client)

    stranger = Client()
    assert poll(stranger, rows_url(), token).status_code == 401
    other_session = Client()
    other_session.force_login(agent)
    response = poll(other_session, rows_url(), token)
    assert response.status_code == 200  # rendered behind its own session, never a bare 204


def test_a_tampered_token_takes_the_full_path(agent_client, ticket):
    token = first_queue_poll(agent_client)

    assert poll(agent_client, rows_url(), token[:-2] + "xx").status_code == 200


def test_an_old_token_takes_the_full_path_so_times_and_the_session_are_checked_again(
    agent_client, ticket, time_machine
):
    time_machine.move_to(datetime.now(UTC))
    token = first_queue_poll(agent_client)
    time_machine.shift(timedelta(seconds=live.TOKEN_MAX_AGE + 1))

    assert poll(agent_client, rows_url(), token).status_code == 200


def test_a_signed_out_agent_polling_with_a_token_is_sent_to_sign_in(agent_client, ticket):
    token = first_queue_poll(agent_client)
    agent_client.post(reverse("logout"))

    response = poll(agent_client, rows_url(), token)

    assert response.status_code == 401
    assert "HX-Redirect" in response


def test_polls_write_nothing_to_the_session(agent_client, ticket, django_assert_max_num_queries):
    token = token_in(agent_client.get(reverse("dashboard:queue")).content.decode(), "queue-live")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        poll(agent_client, rows_url("view=open"), token)  # another queue: the full path
    writes = [query["sql"] for query in queries if query["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []


# The ticket page -----------------------------------------------------------------------------


def first_ticket_poll(client, ticket):
    page = client.get(reverse("dashboard:ticket", args=[ticket.public_id]))
    # The page read no version before its thread: its first poll renders, and hands the
    # token that later polls use.
    response = poll(client, timeline_url(ticket), token_in(page.content.decode(), "timeline"))
    assert response.status_code == 200
    return response


def presence_of(html: str) -> str:
    found = re.search(r'data-presence="([^"]*)"', html)
    return found.group(1) if found else ""


def test_an_unchanged_ticket_poll_is_a_204_without_a_single_query(
    agent_client, ticket, django_assert_num_queries
):
    html = first_ticket_poll(agent_client, ticket).content.decode()
    token, presence = token_in(html, "timeline"), presence_of(html)

    with django_assert_num_queries(0):
        response = poll(agent_client, timeline_url(ticket), token, **{"X-Live-Presence": presence})

    assert response.status_code == 204


def test_a_customer_reply_makes_the_next_ticket_poll_show_it(
    agent_client, ticket, django_capture_on_commit_callbacks
):
    html = first_ticket_poll(agent_client, ticket).content.decode()
    customer_replies(ticket, "The invoice is still missing", capture=django_capture_on_commit_callbacks)

    response = poll(agent_client, timeline_url(ticket), token_in(html, "timeline"))

    assert response.status_code == 200
    assert "The invoice is still missing" in response.content.decode()


def test_an_email_delivered_changes_the_ticket_version(django_capture_on_commit_callbacks):
    before = live.ticket_version(12345)
    with django_capture_on_commit_callbacks(execute=True):
        live.ticket_changed_on_commit(12345)

    assert live.ticket_version(12345) != before


def test_a_colleague_on_the_ticket_is_shown_and_so_is_their_typing(agent_client, organization, ticket):
    colleague = factories.make_agent(organization, email="bob@acme.test", name="Bob Builder")
    bob = Client()
    bob.force_login(colleague)
    html = first_ticket_poll(agent_client, ticket).content.decode()
    token, presence = token_in(html, "timeline"), presence_of(html)
    assert "also viewing" not in html

    bob.get(reverse("dashboard:ticket", args=[ticket.public_id]))
    response = poll(agent_client, timeline_url(ticket), token, **{"X-Live-Presence": presence})

    # Only who is there changed: the strip alone, the thread left as it is.
    assert response.status_code == 200
    assert response["HX-Reswap"] == "none"
    body = response.content.decode()
    assert "Bob Builder is also viewing this ticket" in body
    assert 'id="timeline"' not in body

    bob_html = first_ticket_poll(bob, ticket).content.decode()
    poll(bob, timeline_url(ticket) + "?typing=1", token_in(bob_html, "timeline"))
    response = poll(agent_client, timeline_url(ticket), token, **{"X-Live-Presence": presence_of(body)})
    assert "Bob Builder is typing" in response.content.decode()

    # Nobody sees themselves.
    assert "Alice Agent" in presence_strip(bob_html)
    assert "Bob Builder" not in presence_strip(bob_html)


def presence_strip(html: str) -> str:
    found = re.search(r'<div class="presence".*?</div>', html, re.S)
    return found.group(0) if found else ""


def test_a_colleague_who_left_drops_out_after_a_few_polls(agent_client, organization, ticket, time_machine):
    time_machine.move_to(datetime.now(UTC))
    colleague = factories.make_agent(organization, email="bob@acme.test", name="Bob Builder")
    bob = Client()
    bob.force_login(colleague)
    bob.get(reverse("dashboard:ticket", args=[ticket.public_id]))
    assert "Bob Builder" in presence_strip(first_ticket_poll(agent_client, ticket).content.decode())

    time_machine.shift(timedelta(seconds=live.VIEWING_SECONDS + 1))

    assert "Bob Builder" not in presence_strip(first_ticket_poll(agent_client, ticket).content.decode())


def test_a_ticket_token_does_not_answer_for_another_ticket(agent_client, inbox, ticket):
    other = factories.make_ticket(inbox, subject="Another one", email="other@example.test")
    token = token_in(first_ticket_poll(agent_client, ticket).content.decode(), "timeline")

    response = poll(agent_client, timeline_url(other), token)

    assert response.status_code == 200  # rendered for that ticket, never a 204 borrowed


# Without Redis -------------------------------------------------------------------------------

DATABASE_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "helpdesk_cache"}
}


def test_with_the_database_cache_changes_bump_nothing_and_every_poll_renders(
    settings, agent_client, inbox, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    settings.CACHES = DATABASE_CACHE
    token = first_queue_poll(agent_client, "view=all")

    # A bump would be several statements of the cache table in every change's request.
    with django_capture_on_commit_callbacks(execute=True):
        with django_assert_max_num_queries(40) as captured:
            factories.make_ticket(inbox, subject="Printer on fire")
    assert not [query for query in captured.captured_queries if "live:v:" in query["sql"]]

    # Nothing tells a poll that nothing changed: it renders, and shows the new ticket.
    response = poll(agent_client, rows_url("view=all"), token)
    assert response.status_code == 200
    assert "Printer on fire" in response.content.decode()
