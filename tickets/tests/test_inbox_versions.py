"""A create through an API key takes its inbox from the process's copy of the current
version of the organization's inboxes; every change to an inbox names a new version, so
the next create sees it."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organization
from tickets import selectors, services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput
from tickets.models import Inbox, Ticket
from tickets.tests import factories

CREATE = "/api/v1/tickets"


def body(email="jo@example.test", **fields):
    return {"customer": {"email": email}, "subject": "Refund", "message": "Where is my refund?", **fields}


@pytest.fixture
def inbox(organization, owner):
    # As an installation makes it: through the service, which names a version.
    return services.create_inbox(
        organization=organization, actor=Actor.agent(owner), name="Support", prefix="SUP", is_default=True
    )


def version(organization) -> int:
    return Organization.objects.values_list("inboxes_version", flat=True).get(pk=organization.pk)


def inbox_reads(captured) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith("SELECT") and "tickets_inbox" in query["sql"]
    ]


def test_a_second_create_reads_no_inbox(api, inbox):
    assert api.post(CREATE, body(), format="json").status_code == 201

    with CaptureQueriesContext(connection) as captured:
        response = api.post(CREATE, body(email="sam@example.test"), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["reference"] == "SUP-2"
    assert inbox_reads(captured) == []


def test_an_appbox_create_reads_no_inbox_the_second_time_and_sees_a_new_limit(api, inbox, owner):
    url = f"/compat/appbox/api/v1/paywall/{inbox.public_id}/create-ticket"
    appbox_body = {"email": "jo@example.test", "subject": "No access", "message": "Bought it yesterday."}
    assert api.post(url, appbox_body, format="json").status_code == 201

    with CaptureQueriesContext(connection) as captured:
        assert api.post(url, appbox_body, format="json").status_code == 201
    assert inbox_reads(captured) == []

    services.update_inbox(inbox=inbox, actor=Actor.agent(owner), daily_limit_per_customer=2)
    assert api.post(url, appbox_body, format="json").status_code == 429


def test_a_supportdesk_create_reads_no_inbox_the_second_time(api, inbox, organization):
    services.upsert_customer(
        organization=organization, data=services.CustomerData(email="jo@example.test", external_id="user_42")
    )
    url = "/compat/supportdesk/api/v1/tickets/api-create"
    supportdesk_body = {
        "customerExternalId": "user_42",
        "subject": "Payment failed",
        "description": "Declined.",
    }
    assert api.post(url, supportdesk_body, format="json").status_code == 201

    with CaptureQueriesContext(connection) as captured:
        response = api.post(url, supportdesk_body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["data"]["ticketNumber"] == "SUP-2"
    assert inbox_reads(captured) == []


def test_a_daily_limit_set_after_a_create_applies_to_the_next(api, inbox, owner):
    assert api.post(CREATE, body(), format="json").status_code == 201

    services.update_inbox(inbox=inbox, actor=Actor.agent(owner), daily_limit_per_customer=1)

    response = api.post(CREATE, body(), format="json")
    assert response.status_code == 429, response.content
    assert Ticket.objects.count() == 1


def test_a_new_default_inbox_receives_the_next_create(api, inbox, organization, owner):
    assert api.post(CREATE, body(), format="json").json()["reference"] == "SUP-1"

    services.create_inbox(
        organization=organization, actor=Actor.agent(owner), name="Billing", prefix="BIL", is_default=True
    )

    assert api.post(CREATE, body(), format="json").json()["reference"] == "BIL-1"


def test_a_deleted_inbox_is_not_found_by_the_next_create(api, inbox, organization, owner):
    spare = services.create_inbox(
        organization=organization, actor=Actor.agent(owner), name="Spare", prefix="SPA"
    )
    named = body(inbox=spare.public_id)
    ticket_id = api.post(CREATE, named, format="json").json()["id"]
    Ticket.objects.filter(public_id=ticket_id).delete()

    services.delete_inbox(inbox=spare, actor=Actor.agent(owner))

    assert api.post(CREATE, named, format="json").status_code == 404


def test_a_key_restricted_to_one_inbox_is_refused_another_that_an_open_key_created_in(
    api, inbox, organization, owner, client_for_key
):
    spare = services.create_inbox(
        organization=organization, actor=Actor.agent(owner), name="Spare", prefix="SPA"
    )
    _, restricted_key = factories.make_api_key(organization, inbox=spare)
    assert api.post(CREATE, body(inbox=inbox.public_id), format="json").status_code == 201

    response = client_for_key(restricted_key).post(CREATE, body(inbox=inbox.public_id), format="json")

    assert response.status_code == 403
    assert Ticket.objects.count() == 1


def test_each_write_of_an_inbox_names_a_new_version(inbox, organization, owner):
    actor = Actor.agent(owner)
    seen = {version(organization)}

    def changed():
        now = version(organization)
        assert now not in seen
        seen.add(now)

    services.update_inbox(inbox=inbox, actor=actor, name="Help")
    changed()
    services.set_inbox_survey(inbox=inbox, ask=True, delay_minutes=5, actor=actor)
    changed()
    spare = services.create_inbox(organization=organization, actor=actor, name="Spare", prefix="SPA")
    changed()
    services.delete_inbox(inbox=spare, actor=actor)
    changed()


def test_a_refused_change_keeps_the_version(inbox, organization, owner):
    before = version(organization)
    services.create_inbox(
        organization=organization, actor=Actor.agent(owner), name="Other", prefix="OTH", support_email=""
    )
    other_version = version(organization)
    assert other_version != before

    with pytest.raises(InvalidInput):
        services.update_inbox(inbox=inbox, actor=Actor.agent(owner), prefix="OTH")

    assert version(organization) == other_version


def test_an_organization_whose_inboxes_have_no_version_reads_its_inbox_each_time(
    organization, client_for_key
):
    factories.make_inbox(organization, name="Support", prefix="OLD", is_default=True)
    Organization.objects.filter(pk=organization.pk).update(inboxes_version=0)
    api = client_for_key(factories.make_api_key(organization)[1])
    assert api.post(CREATE, body(), format="json").status_code == 201

    with CaptureQueriesContext(connection) as captured:
        assert api.post(CREATE, body(email="sam@example.test"), format="json").status_code == 201

    assert len(inbox_reads(captured)) == 1


def test_a_change_that_named_no_version_is_seen_once_the_copy_is_a_minute_old(api, inbox, monkeypatch):
    assert api.post(CREATE, body(), format="json").status_code == 201
    # As an older process during a rolling deploy, or an operator's SQL, would change it.
    Inbox.objects.filter(pk=inbox.pk).update(daily_limit_per_customer=1)

    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + selectors.RESOLVED_SECONDS)

    assert api.post(CREATE, body(), format="json").status_code == 429
