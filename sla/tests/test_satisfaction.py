"""Customer satisfaction: asked after resolution (inbox setting and delay), rated on a
scanner-safe page, one rating per ticket changeable for 7 days, shown and listed."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from sla import satisfaction
from sla.models import Satisfaction
from tickets import events
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.exceptions import InvalidTransition
from tickets.models import Inbox, TicketEvent
from tickets.tests import factories
from tickets.tests.test_mail_smtp import received_emails

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def asking_inbox(inbox):
    Inbox.objects.filter(pk=inbox.pk).update(satisfaction_survey=True, satisfaction_delay_minutes=30)
    inbox.refresh_from_db()
    return inbox


def resolve(ticket, agent):
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Fixed it for you.")
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="resolved")


def rate_url(ticket, rating=""):
    url = reverse("sla-survey:rate", args=[ticket.public_id, ticket.access_key])
    return f"{url}?rating={rating}" if rating else url


def test_the_survey_is_sent_once_after_the_delay_by_real_smtp_and_a_scanner_records_nothing(
    asking_inbox,
    agent,
    smtp_settings,
    smtp_server,
    time_machine,
    django_capture_on_commit_callbacks,
):
    _, collector = smtp_server
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(asking_inbox, email="carla@example.test", subject="Cannot log in")
    resolve(ticket, agent)
    collector.received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert satisfaction.send_due_surveys(now=NOW + timedelta(minutes=29)) == 0
        assert satisfaction.send_due_surveys(now=NOW + timedelta(minutes=30)) == 1
        assert satisfaction.send_due_surveys(now=NOW + timedelta(minutes=31)) == 0
    surveys = [email for _, rcpt, email in received_emails(collector) if rcpt == ["carla@example.test"]]
    assert len(surveys) == 1
    email = surveys[0]
    assert email["Subject"] == f"How did we do? [{ticket.reference}]"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    good_url = re.search(r"Good: (\S+)", text).group(1)
    assert good_url.endswith("?rating=good") and "?rating=bad" in text and "?rating=good" in html

    client = Client()
    # A mail scanner follows both links: it sees the page, nothing is recorded.
    path = good_url.removeprefix("http://testserver")
    for scanned in (path, path.replace("good", "bad")):
        page = client.get(scanned)
        assert page.status_code == 200
        assert "no-store" in page["Cache-Control"] and page["X-Robots-Tag"] == "noindex, nofollow"
    assert not Satisfaction.objects.get(ticket=ticket).rating
    assert 'value="good" checked' in client.get(path).content.decode()

    # The customer clicks.
    response = client.post(rate_url(ticket), {"rating": "good", "comment": "Quick and kind."})
    assert response.status_code == 302
    survey = Satisfaction.objects.get(ticket=ticket)
    assert (survey.rating, survey.comment, survey.rated_at) == ("good", "Quick and kind.", NOW)
    assert TicketEvent.objects.filter(ticket=ticket, action="satisfaction_rated", after="good").exists()


def test_an_inbox_that_does_not_ask_sends_no_survey(inbox, agent, time_machine):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(inbox)
    resolve(ticket, agent)
    assert not Satisfaction.objects.exists()
    assert satisfaction.send_due_surveys(now=NOW + timedelta(days=1)) == 0


def test_a_ticket_reopened_before_its_survey_is_not_asked(asking_inbox, agent, time_machine):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(asking_inbox)
    resolve(ticket, agent)
    ticket_services.add_message(ticket=ticket, actor=Actor.for_customer(ticket.customer), body="Still broken")
    assert satisfaction.send_due_surveys(now=NOW + timedelta(hours=1)) == 0
    assert Satisfaction.objects.get(ticket=ticket).asked_at is None


def test_one_rating_per_ticket_changeable_for_seven_days(
    asking_inbox, agent, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(asking_inbox)
    resolve(ticket, agent)
    customer = Actor.for_customer(ticket.customer)
    heard = []
    events.subscribe(events.SatisfactionRated, heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            satisfaction.rate(ticket=ticket, rating="bad", comment="Slow", actor=customer)
        time_machine.move_to(NOW + timedelta(days=6), tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            satisfaction.rate(ticket=ticket, rating="good", actor=customer)
    finally:
        events._subscribers[events.SatisfactionRated].remove(heard.append)
    assert Satisfaction.objects.filter(ticket=ticket).count() == 1
    assert Satisfaction.objects.get(ticket=ticket).rating == "good"
    assert [event.rating for event in heard] == ["bad", "good"]
    assert heard[0].name == "satisfaction.rated"

    time_machine.move_to(NOW + timedelta(days=7, minutes=1), tick=False)
    with pytest.raises(InvalidTransition):
        satisfaction.rate(ticket=ticket, rating="bad", actor=customer)
    page = Client().get(rate_url(ticket)).content.decode()
    assert "this one is final now" in page


def test_a_bad_rating_or_an_open_ticket_is_refused_and_records_nothing(asking_inbox, agent):
    ticket = factories.make_ticket(asking_inbox)
    response = Client().post(rate_url(ticket), {"rating": "good"})
    assert response.status_code == 400 and "not resolved" in response.content.decode()
    resolve(ticket, agent)
    response = Client().post(rate_url(ticket), {"rating": "meh"})
    assert response.status_code == 400 and "Choose good or bad." in response.content.decode()
    assert not Satisfaction.objects.filter(ticket=ticket).exclude(rating="").exists()


def test_a_wrong_link_key_is_404(asking_inbox):
    ticket = factories.make_ticket(asking_inbox)
    url = reverse("sla-survey:rate", args=[ticket.public_id, "tk_wrong"])
    assert Client().get(url).status_code == 404
    assert Client().post(url, {"rating": "good"}).status_code == 404


def test_the_rating_is_on_the_ticket_in_the_api_the_dashboard_and_the_list(
    api, asking_inbox, agent, agent_client, time_machine
):
    time_machine.move_to(NOW, tick=False)
    ticket = factories.make_ticket(asking_inbox)
    other = factories.make_ticket(asking_inbox)
    assert api.get(f"/api/v1/tickets/{ticket.public_id}").json()["satisfaction"] is None
    resolve(ticket, agent)
    resolve(other, agent)
    satisfaction.rate(
        ticket=ticket, rating="good", comment="Great", actor=Actor.for_customer(ticket.customer)
    )
    satisfaction.rate(ticket=other, rating="bad", actor=Actor.for_customer(other.customer))

    body = api.get(f"/api/v1/tickets/{ticket.public_id}").json()
    assert body["satisfaction"] == {"rating": "good", "comment": "Great", "rated_at": "2026-03-04T09:00:00Z"}
    listed = api.get("/api/v1/satisfaction").json()["data"]
    assert {item["ticket"] for item in listed} == {ticket.public_id, other.public_id}
    bad = api.get("/api/v1/satisfaction?rating=bad").json()["data"]
    assert [item["reference"] for item in bad] == [other.reference]
    assert api.get("/api/v1/satisfaction?rating=meh").status_code == 400
    commented = api.get("/api/v1/satisfaction?has_comment=true").json()["data"]
    assert [item["comment"] for item in commented] == ["Great"]

    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id])).content.decode()
    assert 'data-testid="satisfaction-rating"' in page and "Great" in page

    portal = Client().get(ticket.private_path).content.decode()
    assert 'data-testid="satisfaction-prompt"' in portal
    # The customer's page says what they chose, rather than asking again.
    assert "You rated this: 👍 Good" in portal and "How did we do?" not in portal
    unrated = factories.make_ticket(asking_inbox)
    resolve(unrated, agent)
    assert "How did we do?" in Client().get(unrated.private_path).content.decode()


def test_ratings_of_another_organization_are_not_listed(
    api, client_for_key, other_api_key, asking_inbox, agent
):
    ticket = factories.make_ticket(asking_inbox)
    resolve(ticket, agent)
    satisfaction.rate(ticket=ticket, rating="good", actor=Actor.for_customer(ticket.customer))
    assert client_for_key(other_api_key).get("/api/v1/satisfaction").json()["data"] == []
