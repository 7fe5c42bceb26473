"""The automation rows of `make bench` (issue 19, item 5), measured in process.

1. A ticket create with 50 active triggers against the same create with none: the
   statements each runs (target: at most 2 more) and the CPU time of this process per
   create, the median of many (target: at most 2 ms more). The triggers wait for
   "ticket.created" and check conditions a bench ticket does not meet (its subject, a
   custom field, the customer's plan, business hours...), as most of an organization's
   rules do most of the time: what is measured is deciding, not acting.
2. ``?cf.order_id=...`` through the API: EXPLAIN of the ticket query must use the GIN
   index on ``custom_fields`` (``ticket_custom_fields``), no Seq Scan of the tickets.

The triggers are removed afterwards: the load rows that follow run as before.
"""

import json
import statistics
import time

TRIGGERS = 50
CREATES = 60
WARM_UP = 5
GIN_INDEX = "ticket_custom_fields"
MAX_EXTRA_QUERIES = 2
MAX_EXTRA_CPU_MS = 2.0
# Below this many tickets a whole read is the planner's right choice (a quick run).
SMALL_TABLE = 50_000


def _conditions(index: int) -> dict:
    """Fifty conditions of the kinds organizations write; none holds for a bench ticket."""
    kinds = [
        {"field": "subject", "op": "contains", "value": f"never-in-a-bench-subject-{index}"},
        {"field": "custom_fields.order_id", "op": "is", "value": f"Z-{index}"},
        {"field": "customer.metadata.plan", "op": "is", "value": f"plan-{index}"},
        {"field": "priority", "op": "is", "value": "critical"},
        {"field": "channel", "op": "is", "value": "email"},
    ]
    return {"all": [kinds[index % len(kinds)]], "any": []}


def _ensure_order_field(organization, actor):
    from tickets.models import CustomField
    from tickets.services import create_custom_field

    if not CustomField.objects.filter(organization=organization, key="order_id").exists():
        create_custom_field(
            organization=organization, actor=actor, key="order_id", label="Order", type="text"
        )


def _creates(api_key: str, inbox: str, tag: str) -> tuple[int, float]:
    """Statements of one create, and the median CPU ms of this process per create."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")

    def create(number: int):
        body = {
            "inbox": inbox,
            "customer": {"email": f"automation-{tag}-{number}@bench.example"},
            "subject": "Cannot download the invoice",
            "message": "Hello, the invoice download fails.",
        }
        response = client.post(
            "/api/v1/tickets",
            json.dumps(body),
            content_type="application/json",
            headers={"X-API-Key": api_key},
        )
        if response.status_code != 201:
            raise SystemExit(f"create answered {response.status_code}: {response.content[:300]!r}")

    for number in range(WARM_UP):
        create(number)
    with CaptureQueriesContext(connection) as captured:
        create(WARM_UP)
    statements = len(captured.captured_queries)
    cpu = []
    for number in range(WARM_UP + 1, WARM_UP + 1 + CREATES):
        started = time.process_time()
        create(number)
        cpu.append((time.process_time() - started) * 1000)
    return statements, statistics.median(cpu)


def _filter_plan(api_key: str) -> tuple[str, list[str], list[str]]:
    """The custom-field filter's ticket query: its path, the indexes its plan uses, and the
    tables it reads whole."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.models import Ticket

    order_id = (
        Ticket.objects.exclude(custom_fields={})
        .order_by("-id")
        .values_list("custom_fields__order_id", flat=True)
        .first()
    ) or "A-0"
    path = f"/api/v1/tickets?cf.order_id={order_id}"
    client = Client(HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers={"X-API-Key": api_key})
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'tickets_ticket'")
        small = cursor.fetchone()[0] < SMALL_TABLE
    indexes, scanned = set(), set()
    for query in captured.captured_queries:
        sql = query["sql"]
        if "custom_fields" not in sql or not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            if small:
                # A quick run's few thousand tickets are read whole, rightly: ask whether
                # the index can answer the filter, as it must at a million.
                cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
            if small:
                cursor.execute("RESET enable_seqscan")
        plan = json.loads(plan) if isinstance(plan, str) else plan
        for node in _walk(plan[0]["Plan"]):
            if node.get("Index Name"):
                indexes.add(node["Index Name"])
            if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "tickets_ticket":
                scanned.add("tickets_ticket")
    return path, sorted(indexes), sorted(scanned)


def _walk(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _walk(child)


def measure(*, creds: dict, run_tag: int) -> tuple[list[dict], list[tuple[str, bool, str]]]:
    """The automation rows and their checks."""
    from accounts.models import Organization
    from automation import services
    from automation.models import Trigger
    from tickets.actors import Actor

    actor = Actor.system("Bench")
    organization = Organization.objects.get(slug="bench")
    _ensure_order_field(organization, actor)
    # "None" is none: the organization's own triggers (its acknowledgements) are turned
    # off while it is measured, then back on.
    mine = list(Trigger.objects.filter(organization=organization, active=True))
    for trigger in mine:
        services.update_trigger(trigger=trigger, actor=actor, active=False)

    none_statements, none_cpu = _creates(creds["api_key"], creds["inbox"], f"{run_tag}-none")
    made = [
        services.create_trigger(
            organization=organization,
            actor=actor,
            name=f"Bench rule {index}",
            event="ticket.created",
            conditions=_conditions(index),
            actions=[{"type": "set_priority", "value": "urgent"}],
            position=index,
        )
        for index in range(TRIGGERS)
    ]
    try:
        many_statements, many_cpu = _creates(creds["api_key"], creds["inbox"], f"{run_tag}-many")
    finally:
        for trigger in made:
            services.delete_trigger(trigger=trigger, actor=actor)
        for trigger in mine:
            services.update_trigger(trigger=trigger, actor=actor, active=True)

    path, indexes, scanned = _filter_plan(creds["api_key"])
    extra_queries = many_statements - none_statements
    extra_cpu = many_cpu - none_cpu
    rows = [
        {
            "name": f"create-ticket, {TRIGGERS} active triggers",
            "requests": CREATES,
            "ok": CREATES,
            "errors": 0,
            "statuses": {},
            "seconds": 0.0,
            "throughput": 0.0,
            "p50_ms": round(many_cpu, 2),
            "p99_ms": 0.0,
            "queries": many_statements,
            "notes": f"in process: +{extra_queries} statement(s) and {extra_cpu:+.2f} CPU ms (median) vs "
            f"no trigger ({none_statements} statements, {none_cpu:.2f} ms)",
        },
        {
            "name": "API filter ?cf.order_id= (EXPLAIN)",
            "requests": 1,
            "ok": 1,
            "errors": 0,
            "statuses": {},
            "seconds": 0.0,
            "throughput": 0.0,
            "p50_ms": 0.0,
            "p99_ms": 0.0,
            "queries": None,
            "notes": f"{path}: indexes {', '.join(indexes) or 'none'}"
            + (f"; Seq Scan on {', '.join(scanned)}" if scanned else "; no Seq Scan of the tickets"),
        },
    ]
    checks = [
        (
            f"{TRIGGERS} triggers add <= {MAX_EXTRA_QUERIES} queries to a create",
            extra_queries <= MAX_EXTRA_QUERIES,
            f"+{extra_queries} ({many_statements} vs {none_statements})",
        ),
        (
            f"{TRIGGERS} triggers add <= {MAX_EXTRA_CPU_MS:.0f} ms CPU to a create",
            extra_cpu <= MAX_EXTRA_CPU_MS,
            f"{extra_cpu:+.2f} ms ({many_cpu:.2f} vs {none_cpu:.2f}, medians of {CREATES})",
        ),
        (
            "custom-field filter uses the GIN index",
            GIN_INDEX in indexes and not scanned,
            f"indexes: {', '.join(indexes) or 'none'}; seq scans: {', '.join(scanned) or 'none'}",
        ),
    ]
    return rows, checks
