"""The queue: saved views, filters, search, sort, pages, live rows, bulk actions."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets import services
from tickets.actors import Actor
from tickets.dashboard.queue import PER_PAGE
from tickets.models import Ticket, TicketEvent
from tickets.tests import factories


def queue_url(name="dashboard:queue", **params):
    return reverse(name) + ("?" + urlencode(params, doseq=True) if params else "")


def references(response) -> set[str]:
    return {ticket.reference for ticket in response.context["tickets"]}


@pytest.fixture
def spread(inbox, agent, organization):
    """Tickets in every state the views and filters tell apart."""
    system = Actor.system("Tests")
    other_agent = factories.make_agent(organization, email="second@acme.test", name="Sam Second")
    billing = factories.make_inbox(organization, name="Billing", prefix="BIL", daily_limit_per_customer=None)
    mine = factories.make_ticket(inbox, subject="Mine and open", priority="high")
    services.assign(ticket=mine, assignee=agent, actor=system)
    theirs = factories.make_ticket(inbox, subject="Someone else has it")
    services.assign(ticket=theirs, assignee=other_agent, actor=system)
    unassigned = factories.make_ticket(billing, subject="Nobody has it yet", priority="urgent", tags=["vip"])
    resolved = factories.make_ticket(inbox, subject="Already resolved", priority="low")
    services.change_status(ticket=resolved, status="resolved", actor=system)
    return {
        "mine": mine,
        "theirs": theirs,
        "unassigned": unassigned,
        "resolved": resolved,
        "billing": billing,
        "other_agent": other_agent,
    }


# Saved views ---------------------------------------------------------------------------


def test_open_view_is_the_default_and_leaves_out_resolved_tickets(agent_client, spread):
    response = agent_client.get(queue_url())
    assert response.status_code == 200
    assert references(response) == {spread[name].reference for name in ("mine", "theirs", "unassigned")}


@pytest.mark.parametrize(
    "view,expected",
    [
        ("mine", {"mine"}),
        ("unassigned", {"unassigned"}),
        ("open", {"mine", "theirs", "unassigned"}),
        ("recent", {"mine", "theirs", "unassigned", "resolved"}),
        ("all", {"mine", "theirs", "unassigned", "resolved"}),
    ],
)
def test_saved_views_narrow_the_queue(agent_client, spread, view, expected):
    response = agent_client.get(queue_url(view=view))
    assert references(response) == {spread[name].reference for name in expected}


def test_saved_views_show_their_counts(agent_client, spread):
    response = agent_client.get(queue_url())
    assert response.context["view_counts"] == {"mine": 1, "unassigned": 1, "open": 3}


def test_recently_updated_view_puts_the_last_change_first(agent_client, spread, agent):
    services.add_message(ticket=spread["resolved"], body="Bump", actor=Actor.agent(agent))
    response = agent_client.get(queue_url(view="recent"))
    assert response.context["tickets"][0] == spread["resolved"]


# Filters, search, sort ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"status": ["resolved"]}, {"resolved"}),
        ({"status": ["open", "resolved"]}, {"unassigned", "resolved"}),
        ({"priority": ["urgent", "high"]}, {"mine", "unassigned"}),
        ({"assignee": "me"}, {"mine"}),
        ({"assignee": "none"}, {"unassigned", "resolved"}),
        ({"tag": "vip"}, {"unassigned"}),
        ({"q": "resolved"}, {"resolved"}),
    ],
)
def test_filters_narrow_the_all_view(agent_client, spread, params, expected):
    response = agent_client.get(queue_url(view="all", **params))
    assert references(response) == {spread[name].reference for name in expected}


def test_filter_by_inbox_and_by_named_assignee(agent_client, spread):
    response = agent_client.get(queue_url(view="all", inbox=spread["billing"].public_id))
    assert references(response) == {spread["unassigned"].reference}
    response = agent_client.get(queue_url(view="all", assignee=str(spread["other_agent"].pk)))
    assert references(response) == {spread["theirs"].reference}


def test_an_unknown_inbox_or_tag_lists_nothing_and_counts_nothing(agent_client, spread):
    for params in ({"inbox": "01NOSUCHINBOX0000000000000"}, {"tag": "no-such-tag"}):
        response = agent_client.get(queue_url(view="all", **params))
        assert response.status_code == 200
        assert references(response) == set()
        assert response.context["total"] == 0


def test_created_range_includes_whole_days(agent_client, spread, inbox):
    old = factories.make_ticket(inbox, subject="From last week")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=7))
    today = timezone.localdate()
    response = agent_client.get(queue_url(view="all", created_after=today.isoformat()))
    assert old.reference not in references(response)
    assert len(references(response)) == 4
    week_ago = (today - timedelta(days=7)).isoformat()
    response = agent_client.get(queue_url(view="all", created_after=week_ago, created_before=week_ago))
    assert references(response) == {old.reference}


def test_search_finds_message_text_and_the_reference(agent_client, spread, agent):
    services.add_message(ticket=spread["theirs"], body="The invoice PDF is blank", actor=Actor.agent(agent))
    response = agent_client.get(queue_url(view="all", q="invoice PDF"))
    assert references(response) == {spread["theirs"].reference}
    response = agent_client.get(queue_url(view="all", q=spread["mine"].reference))
    assert references(response) == {spread["mine"].reference}


def test_sort_by_priority_puts_the_most_urgent_first(agent_client, spread):
    response = agent_client.get(queue_url(view="all", sort="-priority"))
    priorities = [ticket.priority for ticket in response.context["tickets"]]
    assert priorities == ["urgent", "high", "normal", "low"]
    response = agent_client.get(queue_url(view="all", sort="priority"))
    assert [ticket.priority for ticket in response.context["tickets"]] == ["low", "normal", "high", "urgent"]


def test_invalid_filter_values_are_shown_not_crashed_on(agent_client, spread):
    response = agent_client.get(queue_url(view="all", status="bogus", created_after="yesterday"))
    assert response.status_code == 200
    assert b"form-errors" in response.content


# Pages -----------------------------------------------------------------------------------


@pytest.fixture
def many_tickets(inbox):
    return [factories.make_ticket(inbox, subject=f"Ticket number {number}") for number in range(PER_PAGE + 3)]


def test_pages_hold_a_fixed_number_of_rows_and_link_onwards(agent_client, many_tickets):
    response = agent_client.get(queue_url(view="all"))
    assert len(response.context["tickets"]) == PER_PAGE
    assert response.context["has_next"] is True
    assert b'rel="next"' in response.content
    response = agent_client.get(queue_url(view="all", page=2))
    assert len(response.context["tickets"]) == 3
    assert response.context["has_next"] is False
    assert response.context["first_row"] == PER_PAGE + 1
    assert agent_client.get(queue_url(view="all", page="nonsense")).status_code == 200


def test_queue_query_count_stays_constant_as_tickets_grow(
    agent_client, inbox, agent, django_assert_max_num_queries
):
    def add(count):
        for number in range(count):
            ticket = factories.make_ticket(inbox, subject=f"Load {number}", tags=["one", "two"])
            services.assign(ticket=ticket, assignee=agent, actor=Actor.system("Tests"))

    add(3)
    agent_client.get(queue_url(view="all"))  # warm the session
    with django_assert_max_num_queries(16) as small:
        agent_client.get(queue_url(view="all"))
    baseline = len(small.captured_queries)  # read now: each request resets the query log
    add(37)
    agent_client.get(queue_url(view="all"))  # the remembered queue changed: one session write
    with django_assert_max_num_queries(baseline):
        response = agent_client.get(queue_url(view="all"))
    assert len(response.context["tickets"]) == PER_PAGE
    with django_assert_max_num_queries(baseline):
        agent_client.get(queue_url("dashboard:queue_rows", view="all"))


# Live rows -------------------------------------------------------------------------------


def test_live_rows_are_the_table_body_alone_and_keep_the_filters(agent_client, spread, inbox):
    url = queue_url("dashboard:queue_rows", view="all", priority="urgent")
    response = agent_client.get(url, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.strip().startswith('<div id="queue-live"')
    assert '<ul id="view-list" hx-swap-oob="true">' in html
    assert "<html" not in html
    assert spread["unassigned"].reference in html
    assert spread["mine"].reference not in html
    assert 'hx-trigger="every 5s"' in html
    assert "priority=urgent" in html and "view=all" in html

    fresh = factories.make_ticket(inbox, subject="Arrived just now", priority="urgent")
    html = agent_client.get(url).content.decode()
    assert fresh.reference in html


def test_queue_page_polls_its_rows(agent_client, spread):
    html = agent_client.get(queue_url(view="unassigned")).content.decode()
    assert f'hx-get="{reverse("dashboard:queue_rows")}?view=unassigned"' in html


# Bulk actions ------------------------------------------------------------------------------


def bulk(client, tickets, **data):
    return client.post(
        reverse("dashboard:bulk"),
        {"ticket": [ticket.public_id for ticket in tickets], "next": "/desk/?view=all", **data},
    )


def test_bulk_assign_gives_each_ticket_to_the_agent_with_an_event(agent_client, spread, agent):
    tickets = [spread["unassigned"], spread["theirs"]]
    response = bulk(agent_client, tickets, action="assign", assignee=str(agent.pk))
    assert response.status_code == 302
    assert response["Location"] == "/desk/?view=all"
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.assignee == agent
        assert ticket.events.filter(action=TicketEvent.Action.ASSIGNED, actor_user=agent).exists()


def test_bulk_unassign(agent_client, spread):
    bulk(agent_client, [spread["mine"]], action="assign", assignee="none")
    spread["mine"].refresh_from_db()
    assert spread["mine"].assignee is None


def test_bulk_assign_to_a_stranger_is_refused(agent_client, spread, other_agent):
    response = bulk(agent_client, [spread["unassigned"]], action="assign", assignee=str(other_agent.pk))
    assert response.status_code == 302
    spread["unassigned"].refresh_from_db()
    assert spread["unassigned"].assignee is None


def test_bulk_status_reports_illegal_moves_and_applies_the_rest(agent_client, spread, agent):
    services.change_status(ticket=spread["theirs"], status="closed", actor=Actor.agent(agent))
    response = bulk(
        agent_client, [spread["unassigned"], spread["theirs"]], action="status", status="resolved"
    )
    spread["unassigned"].refresh_from_db()
    spread["theirs"].refresh_from_db()
    assert spread["unassigned"].status == "resolved"
    assert spread["theirs"].status == "closed"
    texts = [str(message) for message in response.wsgi_request._messages]
    assert "Updated 1 ticket." in texts
    assert any(spread["theirs"].reference in text and "cannot become resolved" in text for text in texts)


def test_bulk_priority_tag_and_close(agent_client, spread, agent):
    tickets = [spread["mine"], spread["unassigned"]]
    bulk(agent_client, tickets, action="priority", priority="critical")
    bulk(agent_client, tickets, action="tag", tag="refund")
    bulk(agent_client, tickets, action="close")
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.priority == "critical"
        assert "refund" in {tag.name for tag in ticket.tags.all()}
        assert ticket.status == "closed"
        actions = set(ticket.events.filter(actor_user=agent).values_list("action", flat=True))
        assert {"updated", "tags_changed", "status_changed"} <= actions
    # The tag was added, not put in place of the others.
    assert {tag.name for tag in spread["unassigned"].tags.all()} == {"vip", "refund"}


def test_bulk_without_selection_or_action_says_what_is_missing(agent_client, spread):
    response = bulk(agent_client, [], action="close")
    assert "Select at least one ticket." in [str(m) for m in response.wsgi_request._messages]
    response = bulk(agent_client, [spread["mine"]], action="explode")
    assert "Choose what to do" in str(list(response.wsgi_request._messages)[-1])
    response = bulk(agent_client, [spread["mine"]], action="priority", priority="whenever")
    spread["mine"].refresh_from_db()
    assert spread["mine"].priority == "high"


def test_bulk_refuses_a_next_address_elsewhere(agent_client, spread):
    response = agent_client.post(
        reverse("dashboard:bulk"),
        {"ticket": [spread["mine"].public_id], "action": "close", "next": "https://evil.test/"},
    )
    assert response["Location"] == reverse("dashboard:queue")


def test_bulk_assign_with_an_absurd_agent_id_is_refused_cleanly(agent_client, spread):
    response = bulk(agent_client, [spread["unassigned"]], action="assign", assignee="9" * 40)
    assert response.status_code == 302
    assert "Not an agent" in str(list(response.wsgi_request._messages)[-1])
