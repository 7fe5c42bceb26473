"""The service-level rows of `make bench` (issue 17, item 9), measured in process.

1. Ten active SLA policies in the bench organization, the last one matching every
   ticket (so a create walks all ten and writes due times). They stay for the rest of the
   run: the create-ticket rows under load that follow choose a policy on every create.
2. What choosing the policy adds to a create through the API: its statements with the ten
   policies (this process's copy of them dropped, so the shared cache is read) against
   the same create in an organization that never made a policy. Target: at most 1 (the
   shared cache's read; the due times ride on the ticket's INSERT).
3. "Due soonest" (the API's ``sort=sla_due_at``, the queue's ``sort=due``), the SLA
   filters, and the escalation scheduler's scan: every statement EXPLAINed for a scan of
   a whole big table, with the indexes the SLA statements use, and timed.

The data set gives its unsolved tickets running clocks and a share of them breaches
(bench/dataset.py), so these plans are the ones a real queue gets.
"""

import json
import time
from datetime import timedelta

from bench.load import percentile

POLICY_TARGETS = {"first_reply_minutes": 240, "next_reply_minutes": 480, "resolution_minutes": 4320}
# Nine that the bench's creates (API, priority normal, no tags, no customer metadata) do
# not match, each on another condition, and a catch-all last.
POLICIES = [
    ("Critical", {"priority": ["urgent", "critical"]}),
    ("High", {"priority": ["high"]}),
    ("VIP", {"tag": ["vip"]}),
    ("Refunds", {"tag": ["refund"]}),
    ("Churn risk", {"tag": ["churn-risk"]}),
    ("Email", {"channel": ["email"]}),
    ("Support form", {"channel": ["web"]}),
    ("Pro plan", {"customer_metadata": {"plan": "pro"}}),
    ("Team plan", {"customer_metadata": {"plan": "team"}}),
    ("Everyone else", {}),
]
MAX_ADDED_STATEMENTS = 1


def install_policies(organization, actor) -> None:
    """The ten policies, once: a run on reused data keeps those it made before (deleting a
    policy unlinks it from its tickets, which would time that instead)."""
    from sla import services
    from sla.models import SlaPolicy

    if SlaPolicy.objects.filter(organization=organization, name=POLICIES[-1][0]).exists():
        return
    for position, (name, conditions) in enumerate(POLICIES):
        services.create_policy(
            organization=organization,
            actor=actor,
            name=name,
            position=position,
            conditions=conditions,
            targets=POLICY_TARGETS,
            escalation={"warning_percent": 80},
        )


def create_statements(client, api_key: str, inbox: str, email: str) -> tuple[int, str]:
    """Statements of one create through the API, in process; and the ticket's id."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = {"inbox": inbox, "customer": {"email": email}, "subject": "SLA bench", "message": "Hello"}
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            "/api/v1/tickets",
            json.dumps(body),
            content_type="application/json",
            headers={"X-API-Key": api_key},
        )
    if response.status_code != 201:
        raise SystemExit(f"create answered {response.status_code}: {response.content[:300]!r}")
    return len(captured.captured_queries), response.json()["id"]


def policy_choice(creds: dict, run_tag: int, creates: int) -> dict:
    """Statements a create costs without any policy and with the ten; then ``creates``
    more creates with the ten, timed."""
    from django.test import Client

    from accounts.models import Organization
    from sla import services
    from tickets.models import Ticket

    organization = Organization.objects.get(slug="bench")
    client = Client(HTTP_HOST="127.0.0.1")

    def create(label: str) -> tuple[int, str]:
        create_statements(
            client, creds["api_key"], creds["inbox"], f"sla-warm-{label}-{run_tag}@bench.example"
        )
        services._local.clear()
        return create_statements(
            client, creds["api_key"], creds["inbox"], f"sla-{label}-{run_tag}@bench.example"
        )

    version = Organization.objects.filter(pk=organization.pk).values_list("sla_version", flat=True).get()
    # As an organization that never made a policy (version 0 reads nothing), for this
    # baseline only; then the policies' next version, which every cache loads afresh.
    Organization.objects.filter(pk=organization.pk).update(sla_version=0)
    try:
        without, _ = create("without")
    finally:
        Organization.objects.filter(pk=organization.pk).update(sla_version=version + 1)
    with_policies, public_id = create("with")
    ticket = Ticket.objects.select_related("sla_policy").get(public_id=public_id)
    latencies = []
    for number in range(creates):
        started = time.perf_counter()
        create_statements(client, creds["api_key"], creds["inbox"], f"sla-{number}-{run_tag}@bench.example")
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "latencies": latencies,
        "without": without,
        "with": with_policies,
        "added": with_policies - without,
        "policy": ticket.sla_policy.name if ticket.sla_policy else None,
        "due": ticket.sla_due_at is not None,
    }


def explain(sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def sla_indexes(statements: list[str], walk) -> list[str]:
    """The ticket table's indexes that the statements reading SLA columns use."""
    found = set()
    for sql in statements:
        if "sla_" not in sql or not sql.lstrip().upper().startswith("SELECT"):
            continue
        for node in walk(explain(sql)):
            name = node.get("Index Name", "")
            if name.startswith(("ticket_", "tickets_ticket_")):
                found.add(name)
    return sorted(found)


def _row(name: str, latencies: list[float], *, queries: int, problems: list[str], indexes: list[str]) -> dict:
    latencies = sorted(latencies)
    seconds = sum(latencies) / 1000
    notes = "; ".join(problems) or "no whole-table scan"
    notes += f"; indexes: {', '.join(indexes) or 'none'}; in process"
    return {
        "name": name,
        "requests": len(latencies),
        "ok": len(latencies),
        "errors": 0,
        "statuses": {"200": len(latencies)},
        "seconds": round(seconds, 3),
        "throughput": round(len(latencies) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "queries": queries,
        "notes": notes,
        "problems": problems,
        "indexes": indexes,
    }


def page_row(name: str, path: str, *, headers: dict, agent: bool, reads: int, plan_problems, walk) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    if agent:
        client.force_login(User.objects.get(email="agent0@bench.example"))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    statements = [query["sql"] for query in captured.captured_queries]
    latencies = []
    for _ in range(reads):
        started = time.perf_counter()
        client.get(path, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
    problems = sorted({problem for sql in statements for problem in plan_problems(sql)})
    return _row(
        name, latencies, queries=len(statements), problems=problems, indexes=sla_indexes(statements, walk)
    )


def scan_row(reads: int, plan_problems, walk) -> dict:
    """The escalation scheduler's scan, as ``escalate_due`` runs it (rolled back: it locks)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from sla import escalation

    latencies, statements = [], []
    for _ in range(max(reads, 1)):
        with transaction.atomic():
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                list(escalation.due_for_check(timezone.now()))
            latencies.append((time.perf_counter() - started) * 1000)
            statements = [query["sql"] for query in captured.captured_queries]
            transaction.set_rollback(True)
    problems = sorted({problem for sql in statements for problem in plan_problems(sql)})
    return _row(
        f"SLA escalation scan (batch of {escalation.BATCH_SIZE})",
        latencies,
        queries=len(statements),
        problems=problems,
        indexes=sla_indexes(statements, walk),
    )


def plan_words(row: dict) -> str:
    if row["problems"]:
        return ", ".join(row["problems"])
    return "indexes " + (", ".join(row["indexes"]) or "none")


def measure(*, creds: dict, reads: int, run_tag: int, plan_problems, walk) -> tuple[list[dict], list]:
    """The SLA rows and their checks; leaves the ten policies active for the load."""
    from django.utils import timezone

    from accounts.models import Organization, User
    from tickets.actors import Actor

    organization = Organization.objects.get(slug="bench")
    install_policies(organization, Actor.agent(User.objects.get(email="agent0@bench.example")))
    choice = policy_choice(creds, run_tag, max(reads, 1))

    key = {"X-API-Key": creds["api_key"]}
    soon = (timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pages = [
        ("SLA due soonest, API sort=sla_due_at", "/api/v1/tickets?sort=sla_due_at", key, False),
        ("SLA due soonest, queue view=open", "/desk/?view=open&sort=due", {}, True),
        ("SLA breached, API sla=breached", "/api/v1/tickets?sla=breached", key, False),
        (
            "SLA due within 1 h, API",
            f"/api/v1/tickets?sla_due_before={soon}&sort=sla_due_at",
            key,
            False,
        ),
        ("SLA due within 1 h, queue sla=due_1h", "/desk/?view=all&sla=due_1h&sort=due", {}, True),
    ]
    rows = [
        page_row(
            name, path, headers=headers, agent=agent, reads=reads, plan_problems=plan_problems, walk=walk
        )
        for name, path, headers, agent in pages
    ]
    rows.append(scan_row(reads, plan_problems, walk))
    create_row = _row(
        "SLA create, 10 policies (in process)",
        choice["latencies"],
        queries=choice["with"],
        problems=[],
        indexes=[],
    )
    create_row["statuses"] = {"201": len(choice["latencies"])}
    create_row["notes"] = (
        f"{choice['with']} statements vs {choice['without']} without a policy (+{choice['added']}); "
        f"chose {choice['policy']!r}, due times set: {choice['due']}; in process"
    )
    rows.append(create_row)
    # A scan of a whole big table is a problem (plan_problems); a quick run's small tables
    # may rightly be read whole, so the indexes are shown rather than required.
    checks = [
        (
            "SLA due soonest, filters and escalation scan: no whole-table scan",
            not any(row["problems"] for row in rows[:-1]),
            "; ".join(f"{row['name']}: {plan_words(row)}" for row in rows[:-1]),
        ),
        (
            f"choosing the SLA policy adds <= {MAX_ADDED_STATEMENTS} queries to a create (10 policies)",
            choice["added"] <= MAX_ADDED_STATEMENTS and choice["policy"] == POLICIES[-1][0] and choice["due"],
            f"+{choice['added']} ({choice['without']} -> {choice['with']})",
        ),
    ]
    return rows, checks
