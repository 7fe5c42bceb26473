"""`make bench` at a small size: it loads, serves, drives the load and prints its table.

The figures themselves are measured by hand at a million tickets (docs/performance.md);
this keeps the tool that measures them working. Only what does not depend on the
machine's speed is asserted: every row answered, the query counts and the plans.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.postgres

ROWS = [
    "create-ticket, mail on (production)",
    "create-ticket, mail off",
    "floor POST /bench/floor",
    "ORM floor POST /bench/orm-floor",
    "ticket floor POST /bench/ticket-floor",
    "worker: mails sent",
    "queue page /desk/ (first page)",
    "queue page /desk/?page=",
    "API list /api/v1/tickets (first page)",
    "API list page=",
    "API search q=femelo",
    "API search q=warranty (common word)",
    "API search q=zyxwvu (found nowhere)",
    "private page, 200 messages",
    "create-ticket, 5 webhook endpoints",
    "webhooks: 1 worker delivering",
    "webhooks: receiver down, then back",
    "SLA due soonest, API sort=sla_due_at",
    "SLA due soonest, queue view=open",
    "SLA breached, API sla=breached",
    "SLA due within 1 h, API",
    "SLA due within 1 h, queue sla=due_1h",
    "SLA escalation scan",
    "SLA create, 10 policies",
    "create-ticket, 50 active triggers",
    "API filter ?cf.order_id= (EXPLAIN)",
    "poll, unchanged queue (204)",
    "poll, unchanged ticket (204)",
    "poll, queue rendered in full",
]


@pytest.fixture
def bench_database():
    name = f"helpdesk_bench_test_{os.getpid()}"
    yield name
    admin_url = urlunsplit(urlsplit(DATABASE_URL)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_quick_bench_measures_every_row_and_prints_the_targets(bench_database, tmp_path):
    results = tmp_path / "bench.json"
    completed = subprocess.run(  # noqa: S603 - our own script with fixed arguments
        [
            sys.executable,
            "bench/run.py",
            *("--tickets", "400", "--database", bench_database),
            *("--creates", "40", "--reads", "3", "--workers", "2", "--json", str(results)),
            *("--webhook-creates", "20", "--webhook-down-creates", "4"),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "targets:" in completed.stdout
    assert "create-ticket (mail on) >= 0.3 x ORM floor" in completed.stdout
    assert "create-ticket mail on >= 0.8 x mail off" in completed.stdout

    measured = json.loads(results.read_text())
    assert measured["facts"]["tickets"] == 400
    names = [row["name"] for row in measured["rows"]]
    for name, expected in zip(names, ROWS, strict=True):
        assert name.startswith(expected)
    worker_row = measured["rows"].pop(5)
    for row in measured["rows"]:
        assert row["requests"] > 0 and row["ok"] == row["requests"], row
        assert row["errors"] == 0, row
    # The five create runs took turns, and every request of each was counted once.
    assert [row["requests"] for row in measured["rows"][:5]] == [40, 40, 40, 40, 40]
    # The Procfile's worker sent every mail of the mail-on creates (20 of them warm the
    # server up): the staff copy and the customer's confirmation, each received once.
    assert measured["mail"]["sent"] == 2 * (40 + 20)
    assert measured["mail"]["deliveries"] == {"sent": 2 * (40 + 20)}
    assert worker_row["throughput"] > 0
    checks = {label: passed for label, passed, _ in measured["checks"]}
    assert checks["every mail sent, none failed"]
    assert checks["queue <= 12 & API list <= 10 queries"]
    assert checks["no whole-table scan or count"]
    assert 0 < max(measured["rss_mb"].values()) < 150
    assert 0 < measured["worker_rss_mb"] < 150
    assert checks["create with 5 endpoints: <= 1 more statement, no HTTP"]
    assert checks["backlog delivered once the receiver is back"]
    assert checks["SLA due soonest, filters and escalation scan: no whole-table scan"]
    assert checks["choosing the SLA policy adds <= 1 queries to a create (10 policies)"]
    assert checks["50 triggers add <= 2 queries to a create"]
    assert checks["custom-field filter uses the GIN index"]


def test_explain_only_checks_every_list_and_stops_before_the_load(bench_database, tmp_path):
    results = tmp_path / "plans.json"
    completed = subprocess.run(  # noqa: S603 - our own script with fixed arguments
        [
            sys.executable,
            "bench/run.py",
            *("--tickets", "400", "--database", bench_database, "--explain-only", "--json", str(results)),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "every list flat: yes" in completed.stdout
    assert "gunicorn" not in completed.stdout
    measured = json.loads(results.read_text())
    assert "private page, 200 messages" in measured["plans"]
    assert "/desk/?view=all&q=warranty" in measured["lists"]
    for plan in [*measured["plans"].values(), *measured["lists"].values()]:
        assert plan["problems"] == [] and plan["median_ms"] > 0
