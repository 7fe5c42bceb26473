"""Report numbers checked against a small data set placed on known days (SQLite and PostgreSQL)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.db.utils import ConnectionDoesNotExist
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tickets import reports
from tickets.dashboard.reports import axis_ticks, daily_chart, nice_ceiling, status_chart
from tickets.models import Ticket
from tickets.templatetags.report_tags import duration
from tickets.tests import factories

HOUR = 3600
DAY = 24 * HOUR
START, END = date(2026, 3, 1), date(2026, 3, 7)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def place(ticket, **fields):
    """Put a ticket on known days: timestamps, status and assignee set directly."""
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


@pytest.fixture
def data(organization, inbox):
    """Four tickets created in 1–7 March, one before (resolved inside), one after.

    ============  =====  ======  ==========  ===============  ===============
    ticket        inbox  agent   created     first response   resolved
    ============  =====  ======  ==========  ===============  ===============
    t1 resolved   INV    alice   1 Mar 10h   +1 h             2 Mar 10h (+1 d)
    t2 closed     INV    alice   1 Mar 12h   +3 h             3 Mar 12h (+2 d)
    t3 in prog.   SAL    bob     2 Mar 9h    +30 min          —
    t4 open       SAL    —       3 Mar 8h    —                —
    t5 resolved   INV    bob     20 Feb 8h   +1 h             3 Mar 8h (+11 d)
    t6 open       INV    —       8 Mar 8h    —                —
    ============  =====  ======  ==========  ===============  ===============
    """
    sales = factories.make_inbox(organization, name="Sales", prefix="SAL")
    alice = factories.make_agent(organization, email="alice@acme.test", name="Alice")
    bob = factories.make_agent(organization, email="bob@acme.test", name="Bob")
    carol = factories.make_agent(organization, email="carol@acme.test", name="Carol")
    tickets = {name: factories.make_ticket(inbox if name in {"t1", "t2", "t5", "t6"} else sales) for name in
               ["t1", "t2", "t3", "t4", "t5", "t6"]}  # fmt: skip
    place(tickets["t1"], status="resolved", assignee=alice, created_at=at(1, 10),
          first_response_at=at(1, 11), resolved_at=at(2, 10))  # fmt: skip
    place(tickets["t2"], status="closed", assignee=alice, created_at=at(1, 12),
          first_response_at=at(1, 15), resolved_at=at(3, 12), closed_at=at(3, 12))  # fmt: skip
    place(
        tickets["t3"], status="in_progress", assignee=bob, created_at=at(2, 9), first_response_at=at(2, 9, 30)
    )
    place(tickets["t4"], status="open", created_at=at(3, 8))
    place(tickets["t5"], status="resolved", assignee=bob, created_at=at(20, 8, month=2),
          first_response_at=at(20, 9, month=2), resolved_at=at(3, 8))  # fmt: skip
    place(tickets["t6"], status="open", created_at=at(8, 8))
    return {"inbox": inbox, "sales": sales, "alice": alice, "bob": bob, "carol": carol, **tickets}


def filters_for(organization, **kwargs):
    return reports.ReportFilters(organization=organization, start=START, end=END, **kwargs)


def test_created_and_resolved_are_counted_per_day_with_empty_days(organization, data):
    rows = reports.daily_counts(filters_for(organization))
    assert [row.day for row in rows] == [START + timedelta(days=offset) for offset in range(7)]
    assert [row.created for row in rows] == [2, 1, 1, 0, 0, 0, 0]
    assert [row.resolved for row in rows] == [0, 1, 2, 0, 0, 0, 0]


def test_status_counts_cover_tickets_created_in_the_range(organization, data):
    assert reports.status_counts(filters_for(organization)) == [
        ("open", "Open", 1),
        ("in_progress", "In progress", 1),
        ("pending", "Pending", 0),
        ("on_hold", "On hold", 0),
        ("resolved", "Resolved", 1),
        ("closed", "Closed", 1),
    ]


def test_overall_medians(organization, data):
    overall = reports.overall_timing(filters_for(organization))
    assert (overall.created, overall.responded, overall.resolved) == (4, 3, 3)
    assert overall.median_first_response == pytest.approx(1 * HOUR)  # 30 min, 1 h, 3 h
    assert overall.median_resolution == pytest.approx(2 * DAY)  # 1 d, 2 d, 11 d


def test_medians_per_agent_interpolate_between_the_middle_two(organization, data):
    rows = {row.label: row for row in reports.timing_by_agent(filters_for(organization))}
    assert list(rows) == ["Alice", "Bob", "Carol", "Unassigned"]
    alice, bob, carol, unassigned = rows.values()
    assert (alice.created, alice.resolved) == (2, 2)
    assert alice.median_first_response == pytest.approx(2 * HOUR)  # 1 h and 3 h
    assert alice.median_resolution == pytest.approx(1.5 * DAY)  # 1 d and 2 d
    assert (bob.created, bob.resolved) == (1, 1)
    assert bob.median_first_response == pytest.approx(0.5 * HOUR)
    assert bob.median_resolution == pytest.approx(11 * DAY)
    assert (carol.created, carol.resolved, carol.median_first_response) == (0, 0, None)
    assert (unassigned.created, unassigned.median_first_response, unassigned.median_resolution) == (
        1,
        None,
        None,
    )


def test_medians_per_inbox(organization, data):
    rows = {row.label: row for row in reports.timing_by_inbox(filters_for(organization))}
    invoices, sales = rows["Invoices"], rows["Sales"]
    assert (invoices.created, invoices.resolved) == (2, 3)
    assert invoices.median_first_response == pytest.approx(2 * HOUR)
    assert invoices.median_resolution == pytest.approx(2 * DAY)
    assert (sales.created, sales.resolved) == (2, 0)
    assert sales.median_first_response == pytest.approx(0.5 * HOUR)
    assert sales.median_resolution is None


def test_inbox_and_agent_filters_narrow_every_number(organization, data):
    by_inbox = filters_for(organization, inbox=data["sales"])
    assert [row.created for row in reports.daily_counts(by_inbox)][:3] == [0, 1, 1]
    assert reports.overall_timing(by_inbox).resolved == 0
    assert [row.label for row in reports.timing_by_inbox(by_inbox)] == ["Sales"]
    by_agent = filters_for(organization, assignee_id=data["alice"].pk)
    overall = reports.overall_timing(by_agent)
    assert (overall.created, overall.resolved) == (2, 2)
    assert [row.label for row in reports.timing_by_agent(by_agent)] == ["Alice"]


def test_another_organizations_tickets_never_count(organization, data, other_inbox):
    ticket = factories.make_ticket(other_inbox)
    place(ticket, created_at=at(1, 10), first_response_at=at(1, 10, 5), resolved_at=at(1, 11))
    overall = reports.overall_timing(filters_for(organization))
    assert (overall.created, overall.resolved) == (4, 3)


def test_days_follow_the_site_time_zone(settings, organization, inbox):
    settings.TIME_ZONE = "America/New_York"
    ticket = factories.make_ticket(inbox)
    place(ticket, created_at=at(2, 3))  # 2 March 03:00 UTC is 1 March 22:00 in New York
    rows = reports.daily_counts(filters_for(organization))
    assert [row.created for row in rows][:2] == [1, 0]


def test_a_former_members_tickets_keep_their_numbers(organization, data):
    from accounts.models import Membership

    Membership.objects.filter(user=data["bob"]).delete()
    labels = [row.label for row in reports.timing_by_agent(filters_for(organization))]
    assert "Bob (former member)" in labels


@pytest.mark.postgres
def test_on_postgresql_medians_are_aggregated_in_the_database(organization, data):
    filters = filters_for(organization)
    with CaptureQueriesContext(connection) as captured:
        reports.overall_timing(filters)
        reports.timing_by_agent(filters)
        reports.timing_by_inbox(filters)
    ticket_queries = [
        query["sql"] for query in captured.captured_queries if '"tickets_ticket"' in query["sql"]
    ]
    assert sum("PERCENTILE_CONT" in sql for sql in ticket_queries) == 6
    # Every read of tickets is an aggregate: no ticket rows come back to Python.
    assert all("COUNT(" in sql or "PERCENTILE_CONT" in sql for sql in ticket_queries)


def test_every_report_reads_the_database_that_reports_database_names(settings, organization, data):
    # Under test no "replica" alias exists, so a report that reads it fails loudly: proof
    # that its ticket aggregates go where REPORTS_DATABASE points (the replica in production
    # when DATABASE_REPLICA_URL is set).
    settings.REPORTS_DATABASE = "replica"
    filters = filters_for(organization)
    for report in (
        reports.daily_counts,
        reports.status_counts,
        reports.overall_timing,
        reports.timing_by_agent,
        reports.timing_by_inbox,
        reports.backlog_now,
    ):
        with pytest.raises(ConnectionDoesNotExist):
            report(filters)


# Charts and formatting


def test_nice_ceiling_rounds_up_to_a_readable_axis_top():
    assert [nice_ceiling(value) for value in (0, 1, 3, 7, 12, 51, 180)] == [1, 1, 5, 10, 20, 100, 200]


def test_the_daily_chart_scales_bars_to_the_axis(organization, data):
    chart = daily_chart(reports.daily_counts(filters_for(organization)))
    created = [bar for bar in chart["bars"] if bar.css_class == "bar-created"]
    assert len(created) == 7 and created[0].value == 2
    tallest = max(bar.height for bar in chart["bars"])
    assert created[0].height == tallest == chart["baseline"] - 12
    assert created[3].height == 0
    assert created[0].title == "Mar 1: 2 created"


def test_the_status_chart_has_one_bar_per_status():
    chart = status_chart([("open", "Open", 4), ("closed", "Closed", 0)])
    assert [row["count"] for row in chart["rows"]] == [4, 0]
    assert chart["rows"][1]["width"] == 0 and chart["total"] == 4


@pytest.mark.parametrize(
    "seconds, text",
    [(None, "—"), (42, "42s"), (600, "10m"), (3 * HOUR + 300, "3h 05m"), (2 * DAY + HOUR, "2d 1h")],
)
def test_durations_read_like_a_person_would_say_them(seconds, text):
    assert duration(seconds) == text


# The page


def test_the_reports_page_shows_the_numbers_for_a_custom_range(client, organization, agent, data):
    client.force_login(agent)
    response = client.get(
        reverse("dashboard:reports"), {"days": "custom", "start": "2026-03-01", "end": "2026-03-07"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-stat="created">4<' in page
    assert 'data-stat="resolved">3<' in page
    assert 'data-stat="first-response">1h 00m<' in page
    assert 'data-stat="resolution">2d 0h<' in page
    assert "<title>Mar 1: 2 created</title>" in page
    assert 'data-status="closed">1<' in page
    assert "<script" not in page.split('<div class="reports">')[1]  # the charts need no JavaScript


def test_presets_choose_the_last_n_days(client, agent, organization):
    client.force_login(agent)
    response = client.get(reverse("dashboard:reports"), {"days": "7"})
    assert response.context["filters"].end - response.context["filters"].start == timedelta(days=6)
    response = client.get(reverse("dashboard:reports"))
    assert response.context["filters"].end - response.context["filters"].start == timedelta(days=29)


def test_a_bad_range_falls_back_to_30_days_and_says_why(client, agent):
    client.force_login(agent)
    response = client.get(
        reverse("dashboard:reports"), {"days": "custom", "start": "2026-03-07", "end": "2026-03-01"}
    )
    assert response.status_code == 200
    assert "The start date must be before the end date." in response.content.decode()
    assert response.context["filters"].end - response.context["filters"].start == timedelta(days=29)


def test_another_organizations_inbox_cannot_be_chosen(client, agent, inbox, other_inbox):
    client.force_login(agent)
    response = client.get(reverse("dashboard:reports"), {"inbox": other_inbox.public_id})
    assert response.context["filters"].inbox is None
    assert "Globex support" not in response.content.decode()


def test_reports_need_a_signed_in_member(client, django_user_model):
    assert client.get(reverse("dashboard:reports"))["Location"].startswith(reverse("login"))
    outsider = django_user_model.objects.create_user(email="nobody@example.com", password="x")
    client.force_login(outsider)
    assert client.get(reverse("dashboard:reports")).status_code == 403


def test_reports_answer_get_only(client, agent):
    client.force_login(agent)
    assert client.post(reverse("dashboard:reports")).status_code == 405


def test_the_reports_page_runs_a_fixed_number_of_queries(
    client, organization, agent, data, django_assert_max_num_queries
):
    client.force_login(agent)
    params = {"days": "custom", "start": "2026-03-01", "end": "2026-03-07"}
    with django_assert_max_num_queries(25):
        client.get(reverse("dashboard:reports"), params)
    for _ in range(5):
        factories.make_agent(organization)
        factories.make_inbox(organization)
    with django_assert_max_num_queries(25):
        client.get(reverse("dashboard:reports"), params)


def test_axis_ticks_are_whole_numbers():
    assert axis_ticks(1) == [0, 1]
    assert axis_ticks(2) == [0, 1, 2]
    assert axis_ticks(5) == [0, 1, 2, 3, 4, 5]
    assert axis_ticks(10) == [0, 2, 4, 6, 8, 10]
    assert axis_ticks(20) == [0, 5, 10, 15, 20]
    assert axis_ticks(200) == [0, 50, 100, 150, 200]


def test_the_csv_export_has_the_same_numbers(client, organization, agent, data):
    client.force_login(agent)
    response = client.get(
        reverse("dashboard:reports-csv"), {"days": "custom", "start": "2026-03-01", "end": "2026-03-07"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="helpdesk-report-2026-03-01-2026-03-07.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[:4] == ["day,created,resolved", "2026-03-01,2,0", "2026-03-02,1,1", "2026-03-03,1,2"]
    assert "Alice,2,2,7200,129600" in lines
    assert "Unassigned,1,0,," in lines
    assert "Sales,2,0,1800," in lines


def test_the_csv_export_defuses_formulas_in_names(client, organization, agent, inbox):
    agent.name = "=HYPERLINK(1)"
    agent.save()
    client.force_login(agent)
    assert "'=HYPERLINK(1)" in client.get(reverse("dashboard:reports-csv")).content.decode()


def test_the_csv_export_is_for_members_only(client, django_user_model):
    assert client.get(reverse("dashboard:reports-csv")).status_code == 302
    client.force_login(django_user_model.objects.create_user(email="nobody@example.com", password="x"))
    assert client.get(reverse("dashboard:reports-csv")).status_code == 403
