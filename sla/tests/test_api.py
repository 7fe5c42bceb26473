"""/api/v1/business-hours and /api/v1/sla-policies, and the tickets' ``sla`` block and filters."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from sla.models import BusinessHours, SlaPolicy
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.tests import factories

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
OFFICE = {
    "name": "Office",
    "time_zone": "Europe/Berlin",
    "weekly": [{"day": "mon", "start": "09:00", "end": "17:00"}],
    "holidays": ["2026-12-25"],
}
PRO = {
    "name": "Pro customers",
    "position": 1,
    "business_hours": None,
    "conditions": {"priority": ["high", "urgent"], "customer_metadata": {"plan": "pro"}},
    "targets": {"first_reply_minutes": 60, "next_reply_minutes": 240, "resolution_minutes": 1440},
}


@pytest.fixture
def agent_api(agent):
    token, plaintext = factories.make_agent_token(agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_business_hours_round_trip_with_the_issue_body(api, inbox):
    response = api.post("/api/v1/business-hours", {**OFFICE, "inboxes": [inbox.public_id]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {key: body[key] for key in OFFICE} == OFFICE
    assert body["inboxes"] == [inbox.public_id]
    inbox.refresh_from_db()
    assert inbox.business_hours.public_id == body["id"]
    # The inbox says which hours it counts in, and whether it asks for a rating.
    shown = api.get(f"/api/v1/inboxes/{inbox.public_id}").json()
    assert (shown["business_hours"], shown["satisfaction_survey"], shown["satisfaction_delay_minutes"]) == (
        body["id"],
        False,
        60,
    )

    assert api.get("/api/v1/business-hours").json()["data"][0]["id"] == body["id"]
    changed = api.patch(
        f"/api/v1/business-hours/{body['id']}",
        {"holidays": ["2026-12-24", "2026-12-25"], "inboxes": []},
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["holidays"] == ["2026-12-24", "2026-12-25"]
    assert changed.json()["inboxes"] == []
    assert api.get(f"/api/v1/inboxes/{inbox.public_id}").json()["business_hours"] is None  # 24/7
    assert changed.json()["weekly"] == OFFICE["weekly"]

    assert api.delete(f"/api/v1/business-hours/{body['id']}").status_code == 204
    assert not BusinessHours.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**OFFICE, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**OFFICE, "weekly": []}, "weekly"),
        ({**OFFICE, "weekly": [{"day": "funday", "start": "09:00", "end": "17:00"}]}, "weekly[0].day"),
        ({**OFFICE, "weekly": [{"day": "mon", "start": "9", "end": "17:00"}]}, "weekly[0].start"),
        ({**OFFICE, "holidays": ["25.12.2026"]}, "holidays[0]"),
        ({**OFFICE, "inboxes": ["01NOTANINBOX"]}, "inboxes[0]"),
        ({key: value for key, value in OFFICE.items() if key != "name"}, "name"),
    ],
)
def test_bad_business_hours_are_a_400_naming_the_field_and_create_nothing(api, body, field):
    response = api.post("/api/v1/business-hours", body, format="json")
    assert response.status_code == 400
    assert field in [detail["field"] for detail in response.json()["details"]]
    assert not BusinessHours.objects.exists()


def test_policies_round_trip_with_the_issue_body(api, inbox):
    body = {**PRO, "conditions": {**PRO["conditions"], "inbox": [inbox.public_id]}}
    response = api.post("/api/v1/sla-policies", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    for key in ("name", "position", "business_hours", "targets"):
        assert created[key] == body[key]
    assert created["conditions"] == body["conditions"]
    assert created["time_basis"] == "business"

    hours = api.post("/api/v1/business-hours", OFFICE, format="json").json()
    changed = api.patch(
        f"/api/v1/sla-policies/{created['id']}",
        {
            "targets": {"resolution_minutes": 600},
            "business_hours": hours["id"],
            "escalation": {"warning_percent": 75},
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["targets"] == {
        "first_reply_minutes": 60,
        "next_reply_minutes": 240,
        "resolution_minutes": 600,
    }
    assert changed.json()["business_hours"] == hours["id"]
    assert changed.json()["escalation"]["warning_percent"] == 75

    assert [item["id"] for item in api.get("/api/v1/sla-policies").json()["data"]] == [created["id"]]
    assert api.delete(f"/api/v1/sla-policies/{created['id']}").status_code == 204
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PRO, "targets": {}}, "targets"),
        ({**PRO, "targets": {"first_reply_minutes": "60"}}, "targets.first_reply_minutes"),
        ({**PRO, "conditions": {"priority": ["asap"]}}, "conditions.priority[0]"),
        ({**PRO, "conditions": {"inbox": ["01NOTANINBOX"]}}, "conditions.inbox[0]"),
        ({**PRO, "business_hours": "01NOTACALENDAR"}, "business_hours"),
        ({**PRO, "position": -1}, "position"),
        # A misspelt condition must not leave a policy that matches every ticket.
        ({**PRO, "conditions": {"tags": ["vip"]}}, "conditions.tags"),
        ({**PRO, "targets": {"first_response_minutes": 60}}, "targets.first_response_minutes"),
        ({**PRO, "escalation": {"warning_minutes": 10}}, "escalation.warning_minutes"),
    ],
)
def test_bad_policies_are_a_400_naming_the_field_and_create_nothing(api, body, field):
    response = api.post("/api/v1/sla-policies", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in [detail["field"] for detail in response.json()["details"]]
    assert not SlaPolicy.objects.exists()


def test_a_misspelt_condition_on_patch_is_a_400_and_changes_nothing(api):
    created = api.post("/api/v1/sla-policies", PRO, format="json").json()
    response = api.patch(
        f"/api/v1/sla-policies/{created['id']}", {"conditions": {"priorities": ["low"]}}, format="json"
    )
    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["details"]] == ["conditions.priorities"]
    assert api.get(f"/api/v1/sla-policies/{created['id']}").json()["conditions"] == PRO["conditions"]


def test_agents_read_policies_but_only_owners_change_them(api, agent_api, owner):
    created = api.post("/api/v1/sla-policies", PRO, format="json").json()
    assert agent_api.get("/api/v1/sla-policies").status_code == 200
    assert (
        agent_api.patch(f"/api/v1/sla-policies/{created['id']}", {"name": "X"}, format="json").status_code
        == 403
    )
    assert agent_api.delete(f"/api/v1/sla-policies/{created['id']}").status_code == 403
    token, plaintext = factories.make_agent_token(owner)
    owner_api = APIClient()
    owner_api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert (
        owner_api.patch(f"/api/v1/sla-policies/{created['id']}", {"name": "X"}, format="json").status_code
        == 200
    )


def test_another_organizations_policies_and_hours_are_404(api, other_api_key, client_for_key):
    policy = api.post("/api/v1/sla-policies", PRO, format="json").json()
    hours = api.post("/api/v1/business-hours", OFFICE, format="json").json()
    other = client_for_key(other_api_key)
    assert other.get(f"/api/v1/sla-policies/{policy['id']}").status_code == 404
    assert other.delete(f"/api/v1/business-hours/{hours['id']}").status_code == 404
    assert other.get("/api/v1/sla-policies").json()["data"] == []


def test_a_key_restricted_to_an_inbox_cannot_change_policies(organization, inbox):
    _, key = factories.make_api_key(organization, inbox=inbox)
    restricted = APIClient()
    restricted.credentials(HTTP_X_API_KEY=key)
    assert restricted.post("/api/v1/sla-policies", PRO, format="json").status_code == 403
    assert restricted.get("/api/v1/sla-policies").status_code == 200


def test_tickets_carry_their_sla_and_filter_by_it(api, inbox, agent, time_machine):
    time_machine.move_to(NOW, tick=False)
    api.post(
        "/api/v1/sla-policies",
        {"name": "All", "targets": {"first_reply_minutes": 30, "resolution_minutes": 600}},
        format="json",
    )
    created = api.post(
        "/api/v1/tickets",
        {
            "inbox": inbox.public_id,
            "customer": {"email": "c@example.test"},
            "subject": "Printer on fire",
            "message": "It is burning, please help.",
        },
        format="json",
    ).json()
    assert created["sla"] == {
        "policy": {"id": SlaPolicy.objects.get().public_id, "name": "All"},
        "first_reply_due_at": "2026-03-04T09:30:00Z",
        "next_reply_due_at": None,
        "resolution_due_at": "2026-03-04T19:00:00Z",
        "breached": [],
        "paused": False,
    }
    # As a new request would: the organization as it is now (its SLA version moved).
    inbox.organization.refresh_from_db()
    late = factories.make_ticket(inbox)
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    ticket_services.add_message(ticket=late, actor=Actor.agent(agent), body="Sorry")

    breached = api.get("/api/v1/tickets?sla=breached").json()["data"]
    assert [item["id"] for item in breached] == [late.public_id]
    assert breached[0]["sla"]["breached"] == ["first_reply"]
    due_soon = api.get("/api/v1/tickets", {"sla_due_before": "2026-03-04T09:45:00Z"}).json()["data"]
    assert [item["id"] for item in due_soon] == [created["id"]]
    ordered = api.get("/api/v1/tickets?sort=sla_due_at").json()["data"]
    assert ordered[0]["id"] == created["id"]
    assert api.get("/api/v1/tickets?sla=soon").status_code == 400


def test_moving_a_ticket_to_another_inbox_through_the_api_chooses_its_policy_again(
    api, inbox, organization, time_machine
):
    time_machine.move_to(NOW, tick=False)
    billing = factories.make_inbox(organization, name="Billing", prefix="BIL")
    api.post(
        "/api/v1/sla-policies",
        {
            "name": "Billing",
            "conditions": {"inbox": [billing.public_id]},
            "targets": {"first_reply_minutes": 30},
        },
        format="json",
    )
    created = api.post(
        "/api/v1/tickets",
        {
            "inbox": inbox.public_id,
            "customer": {"email": "c@example.test"},
            "subject": "Refund",
            "message": "Hi",
        },
        format="json",
    ).json()
    assert created["sla"]["policy"] is None

    moved = api.patch(f"/api/v1/tickets/{created['id']}", {"inbox": billing.public_id}, format="json").json()

    assert moved["sla"]["policy"]["name"] == "Billing"
    assert moved["sla"]["first_reply_due_at"] == "2026-03-04T09:30:00Z"


def test_the_ticket_list_reads_the_sla_without_a_query_per_row(api, inbox, django_assert_max_num_queries):
    api.post("/api/v1/sla-policies", {"name": "All", "targets": {"first_reply_minutes": 30}}, format="json")
    inbox.organization.refresh_from_db()
    for _ in range(3):
        factories.make_ticket(inbox)
    with django_assert_max_num_queries(12) as captured:
        api.get("/api/v1/tickets")
    baseline = len(captured.captured_queries)
    for _ in range(5):
        factories.make_ticket(inbox)
    with django_assert_max_num_queries(baseline):
        assert len(api.get("/api/v1/tickets").json()["data"]) == 8


def test_the_openapi_document_has_the_sla_endpoints_and_block(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/sla-policies",
        "/api/v1/sla-policies/{id}",
        "/api/v1/business-hours",
        "/api/v1/business-hours/{id}",
    ):
        assert path in schema["paths"], path
    assert set(schema["paths"]["/api/v1/sla-policies/{id}"]) >= {"get", "patch", "delete"}
    assert "sla" in schema["components"]["schemas"]["Ticket"]["properties"]
    names = {parameter["name"] for parameter in schema["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert {"sla", "sla_due_before"} <= names
