#!/usr/bin/env python
"""`make bench`: Helpdesk at N tickets, measured end to end, printed as one table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything make bench
    DATABASE_URL=... .venv/bin/python bench/run.py --tickets 20000 [--reuse]

1. creates the database ``helpdesk_bench`` on the server of DATABASE_URL (dropped and
   recreated unless --reuse), migrates it and loads N tickets with COPY (bench/dataset.py);
2. measures query counts in process and EXPLAINs every query for scans of whole tables;
3. starts the app as production runs it, from the Procfile: gunicorn with
   gunicorn.conf.py and the production settings on 127.0.0.1, notifications on and mailed
   to a local SMTP sink (bench/smtp_sink.py), and the Procfile's worker draining the task
   queue (TASKS_BACKEND=database) while the load runs; a second gunicorn with mail off
   beside it for comparison. It drives load from a separate process (bench/load.py),
   reports how fast the worker delivers the mails and how far behind it falls, then reads
   the peak RSS of every process.
4. adds the webhook rows (bench/webhooks.py): a create with 5 endpoints listening, one
   worker delivering to a local receiver, and a receiver that is down;
5. the service-level rows (bench/sla.py), measured in process before the load: "due
   soonest" and the SLA filters, the escalation scan, and a create with 10 active policies
   (which stay active, so the create-ticket runs choose a policy on every create);
6. and the polling rows (bench/polling.py): the dashboard's unchanged polls answered from
   the shared cache (Redis), in polls per second per core, beside a poll rendered in full.
"""

import argparse
import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import automation, polling, webhooks  # noqa: E402 - importable once ROOT is on the path
from bench import sla as bench_sla  # noqa: E402 - importable once ROOT is on the path
from bench.load import percentile  # noqa: E402

BIG_TABLES = {"tickets_ticket", "tickets_message", "tickets_customer", "tickets_ticket_tags"}
COUNT_CAP = 10_000
# A specific term (one of the data set's long-tail words: a few hundred tickets per
# million) and a common one (in about a third of all tickets).
SEARCH_TERM = "femelo"
COMMON_TERM = "warranty"
# A typo: no ticket has it, the case a planner that walks the newest tickets gets worst.
ABSENT_TERM = "zyxwvu"
PROCFILE = ROOT / "Procfile"
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "STATIC_MANIFEST": "0",
    "TASKS_BACKEND": "database",
    "SUPPORT_EMAIL_SENDER": "none",
    # The bench is one API key hammering the API on purpose: lift its throttle so the
    # figures measure the work, not 429s.
    "API_THROTTLE_RATE": "100000000/min",
    "HELPDESK_BENCH_FLOOR": "1",
    # The webhook rows send to a receiver on 127.0.0.1 over plain http, and retry after
    # 2 s rather than 30 s so that the receiver-down row ends within the run.
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
    "WEBHOOK_REQUIRE_HTTPS": "0",
    "WEBHOOK_RETRY_BASE_SECONDS": "2",
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "LOG_LEVEL": "WARNING",
}
# Notifications on, as production runs: each create queues its mails for the worker,
# which sends them by SMTP to the bench's sink (EMAIL_PORT is filled in at start).
MAIL_ON_ENV = {
    "SUPPORT_EMAIL_SENDER": "smtp",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_USE_TLS": "0",
    "SUPPORT_EMAIL": "support@bench.example",
}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000, help="tickets to load (default 1,000,000)")
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data if loaded")
    parser.add_argument("--database", default="helpdesk_bench", help="name of the bench database")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the data set")
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client threads for the create runs")
    parser.add_argument("--creates", type=int, default=2000, help="requests per create run (ours, floor)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="turns the three create runs take, each a share of --creates"
    )
    parser.add_argument("--reads", type=int, default=100, help="requests per read measurement")
    parser.add_argument("--max-seconds", type=float, default=120, help="bound on each load run")
    parser.add_argument(
        "--deep-page", type=int, default=400, help="the deep page measured (fewer on a small data set)"
    )
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a read request fails")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=600,
        help="seconds the worker gets to send the rest after the load",
    )
    parser.add_argument(
        "--webhook-creates", type=int, default=200, help="creates with 5 webhook endpoints (default 200)"
    )
    parser.add_argument(
        "--webhook-down-creates", type=int, default=20, help="creates while the webhook receiver is down"
    )
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument(
        "--explain-only",
        action="store_true",
        help="stop after the in-process query counts and EXPLAIN: print each page's plan problems "
        "and its time in process (no server, no load)",
    )
    return parser.parse_args()


def bench_database_url(name: str) -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit("make bench needs DATABASE_URL pointing at PostgreSQL (postgres://...)")
    host = parts.hostname or "127.0.0.1"
    if host not in ("127.0.0.1", "localhost", "::1") and not parts.netloc.startswith("/"):
        print(f"note: the database server is {host}; the app and the load stay on 127.0.0.1", file=sys.stderr)
    bench = urlunsplit(parts._replace(path=f"/{name}"))
    admin = urlunsplit(parts._replace(path="/postgres"))
    return bench, admin


def prepare_database(admin_url: str, name: str, reuse: bool) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return
        if exists:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def step(text: str) -> None:
    print(f"== {text}", file=sys.stderr, flush=True)


# Data ----------------------------------------------------------------------------------


def setup_fixture():
    """The organization, inboxes, agents, tags and API key the data and the load use."""
    from accounts.models import Membership, Organization, User
    from bench.dataset import INBOXES
    from tickets import events, services
    from tickets.actors import Actor
    from tickets.models import Tag

    organization = Organization.objects.create(name="Bench Corp", slug="bench")
    # With what every organization starts with (its acknowledgement triggers), as made.
    events.publish(events.OrganizationCreated(actor=Actor.system("Bench"), organization_id=organization.pk))
    organization.refresh_from_db()
    # Through the service, as an installation makes them (it versions the inboxes).
    inboxes = [
        services.create_inbox(
            organization=organization,
            actor=Actor.system("Bench"),
            name=name,
            prefix=prefix,
            is_default=index == 0,
        )
        for index, (name, prefix, _) in enumerate(INBOXES)
    ]
    agents = []
    for index in range(6):
        user = User.objects.create_user(f"agent{index}@bench.example", password=None, name=f"Agent {index}")
        Membership.objects.create(
            user=user, organization=organization, role="owner" if index == 0 else "agent"
        )
        agents.append(user)
    tags = [
        Tag.objects.create(organization=organization, name=name)
        for name in ["vip", "bug", "refund", "urgent", "feedback", "churn-risk", "sales", "mobile"]
    ]
    return organization, inboxes, agents, tags


def load_data(args) -> dict:
    from django.db import connection

    from bench import dataset
    from tickets.models import Inbox, Ticket

    if Ticket.objects.exists():
        step(f"reusing the loaded data ({Ticket.objects.count():,} tickets)")
        with connection.cursor() as cursor:
            cursor.execute("SELECT value FROM bench_info WHERE key = 'facts'")
            return {**json.loads(cursor.fetchone()[0]), "reused": True}
    organization, inboxes, agents, tags = setup_fixture()
    step(f"loading {args.tickets:,} tickets with COPY")
    started = time.monotonic()
    connection.ensure_connection()
    facts = dataset.load(
        connection.connection,
        tickets=args.tickets,
        seed=args.seed,
        organization_id=organization.pk,
        inbox_ids=[inbox.pk for inbox in inboxes],
        agent_ids=[agent.pk for agent in agents],
        tag_ids=[str(tag.pk) for tag in tags],
        now=time.time(),
    )
    assert Inbox.objects.get(pk=inboxes[0].pk).next_number > 1
    facts["load_seconds"] = round(time.monotonic() - started, 1)
    step("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        for table in [*BIG_TABLES, "tickets_inbox"]:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("CREATE TABLE bench_info (key text PRIMARY KEY, value text NOT NULL)")
        facts["analyze_seconds"] = round(time.monotonic() - started - facts["load_seconds"], 1)
        cursor.execute("INSERT INTO bench_info VALUES ('facts', %s)", [json.dumps(facts)])
    return facts


def credentials() -> dict:
    """An API key and a logged-in agent session (cookie) for the load."""
    from datetime import timedelta

    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from accounts import services
    from accounts.models import ApiKey, Organization, User
    from tickets.models import Customer, Inbox, Tag

    organization = Organization.objects.get(slug="bench")
    _, key = ApiKey.objects.create_key(name=f"bench {time.time():.0f}", organization=organization)
    user = User.objects.get(email="agent0@bench.example")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    inbox = Inbox.objects.get(organization=organization, is_default=True)
    _, agent_token = services.create_agent_token(user=user, name=f"bench {time.time():.0f}")
    # The customer with the most tickets: the longest list a customer's own route shows.
    busiest = (
        Customer.objects.filter(organization=organization)
        .annotate(ticket_count=Count("tickets"))
        .order_by("-ticket_count")
        .first()
    )
    _, customer_token = services.mint_customer_token(
        customer=busiest, expires_at=timezone.now() + timedelta(hours=2)
    )
    return {
        "api_key": key,
        "session": client.cookies["sessionid"].value,
        "inbox": inbox.public_id,
        "agent_id": user.pk,
        "agent_token": agent_token,
        "customer_token": customer_token,
        "tag": Tag.objects.filter(organization=organization)
        .order_by("name")
        .values_list("name", flat=True)[0],
    }


def deep_pages(requested: int) -> tuple[int, int]:
    """The deep page measured of the queue and of the API list: ``requested``, or the last
    full page where a small data set has fewer (a page past the end measures nothing)."""
    from accounts.models import User
    from tickets.api.pagination import PagePagination
    from tickets.dashboard.filters import DEFAULT_VIEW, apply_saved_view
    from tickets.dashboard.queue import PER_PAGE
    from tickets.models import Ticket
    from tickets.pagination import COUNT_CAP as PAGINATOR_CAP

    tickets = Ticket.objects.filter(organization__slug="bench")
    agent = User.objects.get(email="agent0@bench.example")
    # Both list pages up to the shared paginator's capped count.
    in_queue = min(apply_saved_view(tickets, DEFAULT_VIEW, agent).count(), PAGINATOR_CAP)
    listed = min(tickets.count(), PAGINATOR_CAP)
    queue = min(requested, max(1, in_queue // PER_PAGE))
    api = min(requested, max(1, listed // PagePagination.page_size))
    for name, page in (("queue", queue), ("API list", api)):
        if page != requested:
            step(f"the {name} has no page {requested} at this size: measuring page {page}")
    return queue, api


# Query counts and plans ----------------------------------------------------------------

# Every list a person or an integrator can ask for, EXPLAINed in process (not driven with
# load): each saved view of the queue with its own sort, every sort, every filter, a deep
# page of the busiest views, the API list's filters and sorts, and the dialects' lists.
LISTS = [
    *(f"/desk/?view={view}" for view in ("mine", "unassigned", "open", "recent", "all")),
    *(
        f"/desk/?view=all&sort={sort}"
        for sort in (
            "-created",
            "created",
            "-updated",
            "updated",
            "-priority",
            "priority",
            "-number",
            "number",
        )
    ),
    "/desk/?view=all&status=open",
    "/desk/?view=all&status=closed",
    "/desk/?view=all&priority=urgent",
    "/desk/?view=all&inbox={inbox}",
    "/desk/?view=all&assignee={agent_id}",
    "/desk/?view=all&assignee=none",
    "/desk/?view=all&tag={tag}",
    "/desk/?view=all&q=femelo",
    f"/desk/?view=all&q={COMMON_TERM}",
    "/desk/?view=all&created_after=2026-01-01",
    "/desk/?view=all&page={deep_queue}",
    "/desk/?view=recent&page={deep_queue}",
    "/api/v1/tickets?status=open&priority=high",
    "/api/v1/tickets?sort=-updated_at",
    "/api/v1/tickets?sort=priority",
    "/api/v1/tickets?assignee={agent_id}",
    "/api/v1/tickets?tag={tag}",
    "/api/v1/tickets?inbox={inbox}&status=closed",
    "/compat/inapp/v1/admin/support/tickets?page=1&per_page=20",
    "/compat/inapp/v1/admin/support/tickets?status=open&page=1&per_page=20",
    "/compat/inapp/v1/admin/support/tickets?page=200&per_page=20",
    "/compat/inapp/v1/support/tickets?page=1&per_page=20",
]


def lists_to_explain(creds: dict, deep_queue: int) -> list[tuple[str, str, str]]:
    """(name, path, who asks) for each of LISTS, with this data set's ids filled in."""
    values = {**creds, "deep_queue": deep_queue}
    found = []
    for template in LISTS:
        path = template.format(**values)
        if path.startswith("/desk/"):
            who = "agent"
        elif path.startswith("/compat/inapp/v1/admin/"):
            who = "agent token"
        elif path.startswith("/compat/inapp/"):
            who = "customer token"
        else:
            who = "key"
        found.append((path, path, who))
    return found


def walk(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from walk(child)


@functools.cache
def table_rows(relation: str) -> float:
    """PostgreSQL's estimate of a table's rows (kept by VACUUM ANALYZE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [relation])
        return cursor.fetchone()[0]


# A Seq Scan right under a LIMIT stops once it has the rows the LIMIT wants: a capped count
# of a common word or a big inbox reads about cap / (the share of tickets that match) rows,
# however big the table grows. That is a flat plan (an index would have to read every
# match first), so it is reported apart, as long as the planner expects it to stop within
# this many rows.
BOUNDED_SCAN_ROWS = 5 * COUNT_CAP


def plan_findings(sql: str) -> tuple[list[str], list[str]]:
    """What EXPLAIN finds in a statement: (problems, bounded scans).

    Problems are Seq Scans of big tables past the cap and counts over more rows than it;
    a bounded scan is a Seq Scan a LIMIT stops within BOUNDED_SCAN_ROWS rows."""
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return [], []
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
    problems, bounded = [], []
    parents = {}
    for node in walk(plan[0]["Plan"]):
        for child in node.get("Plans", []):
            parents[id(child)] = node
        relation = node.get("Relation Name", "")
        # Reading a table of a few thousand rows whole is the right plan, not a problem:
        # only a scan of a table past the count cap is one (a quick run has small tables).
        if node["Node Type"] == "Seq Scan" and relation in BIG_TABLES and table_rows(relation) > COUNT_CAP:
            parent = parents.get(id(node), {})
            share = min(1.0, parent.get("Plan Rows", 0) / max(node.get("Plan Rows", 1), 1))
            expected_read = table_rows(relation) * share
            if parent.get("Node Type") == "Limit" and expected_read <= BOUNDED_SCAN_ROWS:
                bounded.append(f"Seq Scan on {relation} stopped by LIMIT after ~{expected_read:,.0f} rows")
            else:
                problems.append(f"Seq Scan on {relation}")
        if node["Node Type"] == "Aggregate" and "count(" in " ".join(node.get("Output", [])) + sql.lower():
            rows = max((child.get("Plan Rows", 0) for child in node.get("Plans", [])), default=0)
            if rows > COUNT_CAP + 1:
                problems.append(f"count over ~{rows:,} rows")
    return problems, bounded


def plan_problems(sql: str) -> list[str]:
    """Seq Scans of big tables past the cap (not stopped early by a LIMIT) and counts over
    more rows than it, per EXPLAIN."""
    return plan_findings(sql)[0]


def measure_queries(path: str, *, headers: dict | None = None, agent: bool = False) -> dict:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    headers = headers or {}
    if agent:
        client.force_login(User.objects.get(email="agent0@bench.example"))
    client.get(path, headers=headers)  # warm: sessions, content types
    # Counted and timed with the cache empty: what a page costs before it caches anything.
    cache.clear()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    uncached_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    problems, bounded, flagged = [], [], []
    for query in captured.captured_queries:
        found, stopped = plan_findings(query["sql"])
        problems.extend(found)
        bounded.extend(stopped)
        if found or stopped:
            flagged.append(query["sql"])
    return {
        "queries": len(captured.captured_queries),
        "uncached_ms": uncached_ms,
        "problems": sorted(set(problems)),
        "bounded": sorted(set(bounded)),
        "flagged_sql": flagged,
    }


def median_in_process_ms(path: str, *, headers: dict | None, agent: bool, times: int = 5) -> float:
    """A page's median time served in process, its cache cleared before each request."""
    from django.core.cache import cache
    from django.test import Client

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    if agent:
        client.force_login(User.objects.get(email="agent0@bench.example"))
    timings = []
    for _ in range(times):
        cache.clear()
        started = time.perf_counter()
        client.get(path, headers=headers or {})
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)[times // 2]


def print_explained(plans: dict, listed: dict, json_path: Path | None) -> None:
    """--explain-only: each page's statements, its time in process (median of 5, warm
    cache cleared each time) and what EXPLAIN found; with --json, the flagged SQL too."""
    print(f"{'page':<64} {'queries':>7} {'p50 ms':>8}  problems")
    print("-" * 100)
    for name, plan in [*plans.items(), *listed.items()]:
        problems = "; ".join([*plan["problems"], *plan["bounded"]]) or "-"
        print(f"{name[:64]:<64} {plan['queries']:>7} {plan['median_ms']:>8.1f}  {problems}")
    flat = not any(plan["problems"] for plan in [*plans.values(), *listed.values()])
    print(f"\nevery list flat: {'yes' if flat else 'NO'}")
    if json_path:
        json_path.write_text(json.dumps({"plans": plans, "lists": listed}, indent=2, default=str))


# The server and the load -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(process: str) -> list[str]:
    """The Procfile's command for ``process``, run from this virtualenv: what production runs."""
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            words = command.split()
            bin_dir = Path(sys.executable).parent
            return [
                sys.executable if word == "python" else str(bin_dir / word) if word == "gunicorn" else word
                for word in words
            ]
    raise SystemExit(f"the Procfile has no {process!r} process")


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    server_env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "GUNICORN_ACCESS_LOG": ""}
    if workers:
        server_env["WEB_CONCURRENCY"] = str(workers)
    server = subprocess.Popen(procfile_command("web"), cwd=ROOT, env=server_env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited at start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def start_smtp_sink(port: int, count_file: Path) -> subprocess.Popen:
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port), str(count_file)]
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sink.poll() is not None:
            raise SystemExit("the SMTP sink exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return sink
        except OSError:
            time.sleep(0.2)
    sink.terminate()
    raise SystemExit("the SMTP sink did not listen within 30 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Backlog:
    """What the worker has still to do, sampled from the database while the load runs."""

    def __init__(self, database_url: str):
        import psycopg

        from bench.floor import PARKED

        self.parked = PARKED
        self.connection = psycopg.connect(database_url, autocommit=True)
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def waiting(self) -> int:
        """Tasks queued and not yet finished: notifications to render, mails to send (not
        the ticket floor's empty tasks, parked in 2100)."""
        return self.connection.execute(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult"
            " WHERE status IN ('READY', 'RUNNING') AND run_after <> %s",
            [self.parked],
        ).fetchone()[0]

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            self.samples.append((time.monotonic(), self.waiting()))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max((count for _, count in self.samples), default=0)

    def close(self) -> None:
        self.connection.close()


def drive(port: int, **spec) -> dict:
    spec = {"port": port, **spec}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "load.py"), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


def drive_rounds(port: int, specs: dict[str, dict], rounds: int) -> dict[str, dict]:
    """Drive each of ``specs`` in turn, ``rounds`` times over, and sum each one's rounds.

    On a machine whose other load comes and goes during the run, three runs one after the
    other can meet different loads, and their ratio then measures the machine; taking
    turns spreads every change of load over all of them alike.
    """
    parts: dict[str, list[dict]] = {name: [] for name in specs}
    for round_number in range(rounds):
        for name, spec in specs.items():
            total = spec["requests"]
            share = total // rounds + (1 if round_number < total % rounds else 0)
            first = spec.get("first_number", 1) + round_number * total
            spec = {**spec, "requests": share, "first_number": first, "raw": True}
            parts[name].append(drive(spec.pop("port", port), **spec))
    return {name: _summed(results) for name, results in parts.items()}


def _summed(results: list[dict]) -> dict:
    latencies = sorted(value for result in results for value in result.pop("latencies_ms"))
    statuses: dict[str, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    ok = sum(result["ok"] for result in results)
    seconds = sum(result["seconds"] for result in results)
    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": statuses,
        "errors": sum(result["errors"] for result in results),
        "first_error": next((result["first_error"] for result in results if result["first_error"]), ""),
        "seconds": round(seconds, 3),
        "throughput": round(ok / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "mean_ms": round(sum(latencies) / len(latencies), 1) if latencies else 0.0,
    }


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == master:
            pids.append(int(entry.name))
    return pids


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def mails_sent(count_file: Path) -> int:
    try:
        return int(count_file.read_text() or 0)
    except (OSError, ValueError):
        return 0


def drain(backlog: Backlog, count_file: Path, since: float, timeout: float) -> dict:
    """Wait until the worker has nothing left (or ``timeout``); what it sent, and how fast."""
    at_load_end = mails_sent(count_file)
    waiting_at_load_end = backlog.waiting()
    started = time.monotonic()
    while backlog.waiting() and time.monotonic() - started < timeout:
        time.sleep(0.5)
    seconds = time.monotonic() - started
    sent = mails_sent(count_file)
    deliveries = dict(
        backlog.connection.execute(
            "SELECT status, count(*) FROM tickets_delivery"
            " WHERE created_at >= to_timestamp(%s) GROUP BY status",
            [since],
        ).fetchall()
    )
    return {
        "sent": sent,
        "sent_at_load_end": at_load_end,
        "waiting_at_load_end": waiting_at_load_end,
        "drain_seconds": seconds,
        "drained": not backlog.waiting(),
        "deliveries": deliveries,
    }


def mail_row(mail: dict, tickets: int) -> dict:
    """The worker's row: mails per second while it had the machine to itself, after the load."""
    after_load = mail["sent"] - mail["sent_at_load_end"]
    during_rate = mail["sent_at_load_end"] / mail["load_seconds"] if mail["load_seconds"] else 0.0
    drain_rate = after_load / mail["drain_seconds"] if mail["drain_seconds"] and after_load else during_rate
    notes = (
        f"{mail['sent']} mails for {tickets} tickets (deliveries {mail['deliveries']}); "
        f"{mail['sent_at_load_end']} sent during the load ({during_rate:.1f}/s), "
        f"peak backlog {mail['peak_backlog']} tasks; at its end {mail['waiting_at_load_end']} tasks waiting, "
        f"done {mail['drain_seconds']:.0f} s later"
    )
    if not mail["drained"]:
        notes = "NOT DRAINED in time; " + notes
    return {
        "name": "worker: mails sent (after the load)",
        "throughput": drain_rate,
        "p50_ms": 0.0,
        "p99_ms": 0.0,
        "notes": notes,
    }


# The table -----------------------------------------------------------------------------


def print_table(rows: list[dict], facts: dict, extra: list[str]) -> None:
    header = f"{'measure':<40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'queries':>7}  notes"
    print()
    print(
        f"Helpdesk bench: {facts['tickets']:,} tickets, {facts['messages']:,} messages, "
        f"{facts['customers']:,} customers; {os.cpu_count()} cores"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        queries = "" if row.get("queries") is None else str(row["queries"])
        print(
            f"{row['name']:<40} {row['throughput']:>8.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
            f"{queries:>7}  {row.get('notes', '')}"
        )
    print("-" * len(header))
    for line in extra:
        print(line)


def main() -> None:
    args = parse_args()
    bench_url, admin_url = bench_database_url(args.database)
    step(f"database {args.database} ({'reuse' if args.reuse else 'fresh'})")
    prepare_database(admin_url, args.database, args.reuse)

    env = {**os.environ, **PRODUCTION_ENV, "DATABASE_URL": bench_url}
    os.environ.update(
        {key: value for key, value in env.items() if key in PRODUCTION_ENV or key == "DATABASE_URL"}
    )
    os.chdir(ROOT)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    step("migrate")
    call_command("migrate", interactive=False, verbosity=0)
    from bench.floor import TABLE_SQL

    with connection.cursor() as cursor:
        cursor.execute(TABLE_SQL)
    facts = load_data(args)
    if facts.get("reused"):
        webhooks.remove_endpoints()
    creds = credentials()
    long_thread = facts["long_thread"]
    from django.urls import reverse

    private_path = reverse("portal:ticket", args=[long_thread["public_id"], long_thread["access_key"]])
    deep_queue, deep_api = deep_pages(args.deep_page)
    reads = [
        ("queue page /desk/ (first page)", "/desk/", "agent"),
        (f"queue page /desk/?page={deep_queue}", f"/desk/?page={deep_queue}", "agent"),
        ("API list /api/v1/tickets (first page)", "/api/v1/tickets", "key"),
        (f"API list page={deep_api}", f"/api/v1/tickets?page={deep_api}", "key"),
        (f"API search q={SEARCH_TERM}", f"/api/v1/tickets?q={SEARCH_TERM}", "key"),
        (f"API search q={COMMON_TERM} (common word)", f"/api/v1/tickets?q={COMMON_TERM}", "key"),
        (f"API search q={ABSENT_TERM} (found nowhere)", f"/api/v1/tickets?q={ABSENT_TERM}", "key"),
        (f"private page, {dataset_long_thread()} messages", private_path, "none"),
    ]

    step("query counts and EXPLAIN (in process)")
    callers = {
        "key": {"X-API-Key": creds["api_key"]},
        "agent token": {"Authorization": f"Bearer {creds['agent_token']}"},
        "customer token": {"Authorization": f"Bearer {creds['customer_token']}"},
    }
    plans = {}
    for name, path, who in reads:
        plans[name] = measure_queries(path, headers=callers.get(who), agent=who == "agent")
    step(f"EXPLAIN of every saved view, sort and filter, and the dialects' lists ({len(LISTS)} pages)")
    listed = {}
    for name, path, who in lists_to_explain(creds, deep_queue):
        listed[name] = measure_queries(path, headers=callers.get(who), agent=who == "agent")
    if args.explain_only:
        for name, path, who in [*reads, *lists_to_explain(creds, deep_queue)]:
            timed = plans.get(name) or listed[name]
            timed["median_ms"] = median_in_process_ms(path, headers=callers.get(who), agent=who == "agent")
        print_explained(plans, listed, args.json)
        return
    step("SLA: due soonest, the escalation scan, a create with 10 policies (which stay for the load)")
    sla_rows, sla_checks = bench_sla.measure(
        creds=creds, reads=args.reads, run_tag=int(time.time()), plan_problems=plan_problems, walk=walk
    )
    connection.close()

    sink_port, port, mail_port = free_port(), free_port(), free_port()
    mail_count_file = Path(tempfile.mkdtemp(prefix="helpdesk-bench-")) / "mails"
    mail_env = {**env, **MAIL_ON_ENV, "EMAIL_PORT": str(sink_port)}
    step(f"SMTP sink on 127.0.0.1:{sink_port}; gunicorn with mail on :{mail_port}, mail off :{port}; worker")
    started_at = time.time()
    processes = [start_smtp_sink(sink_port, mail_count_file)]
    rows = []
    try:
        mail_server = start_gunicorn(mail_env, mail_port, args.workers)
        processes.append(mail_server)
        server = start_gunicorn(env, port, args.workers)
        processes.append(server)
        worker = subprocess.Popen(procfile_command("worker"), cwd=ROOT, env=mail_env)
        processes.append(worker)
        backlog = Backlog(bench_url)
        create_body = json.dumps(
            {
                "inbox": creds["inbox"],
                "customer": {"email": "load-__N__@bench.example", "name": "Load Customer"},
                "subject": "Cannot download the invoice __N__",
                "message": "Hello, the invoice download fails with an error since this morning. Thanks!",
                "priority": "normal",
            }
        )
        api_headers = {"X-API-Key": creds["api_key"], "Content-Type": "application/json"}
        create_spec = {
            "method": "POST",
            "body": create_body,
            "concurrency": args.concurrency,
            "max_seconds": args.max_seconds,
            "expect_status": 201,
        }
        run_tag = int(time.time())
        # Its customers' emails must not collide with those of the create runs.
        orm_floor_spec = {**create_spec, "body": create_body.replace("load-", "orm-floor-")}
        mail_on_spec = {**create_spec, "body": create_body.replace("load-", "mail-on-")}
        ticket_floor_spec = {**create_spec, "body": create_body.replace("load-", "ticket-floor-")}
        step("warm-up")
        for warm_port, spec in ((port, create_spec), (mail_port, mail_on_spec)):
            drive(
                warm_port,
                path="/api/v1/tickets",
                headers=api_headers,
                requests=20,
                **{**spec, "first_number": run_tag * 1000},
            )
        drive(
            port,
            path="/bench/floor",
            headers={"Content-Type": "application/json"},
            requests=20,
            **{**create_spec, "first_number": run_tag * 1000 + 100},
        )
        drive(
            port,
            path="/bench/orm-floor",
            headers=api_headers,
            requests=20,
            **{**orm_floor_spec, "first_number": run_tag * 1000},
        )
        drive(
            port,
            path="/bench/ticket-floor",
            headers=api_headers,
            requests=20,
            **{**ticket_floor_spec, "first_number": run_tag * 1000},
        )

        step(
            f"create-ticket with mail on and off, floor, ORM floor and ticket floor, x{args.creates} each, "
            f"{args.concurrency} threads, taking turns in {args.rounds} rounds; the worker drains meanwhile"
        )
        backlog.start()
        load_started = time.monotonic()
        driven = drive_rounds(
            port,
            {
                "ours_mail_on": {
                    **mail_on_spec,
                    "port": mail_port,
                    "path": "/api/v1/tickets",
                    "headers": api_headers,
                    "requests": args.creates,
                    "first_number": run_tag * 1000 + 10_000_000,
                },
                "ours": {
                    **create_spec,
                    "path": "/api/v1/tickets",
                    "headers": api_headers,
                    "requests": args.creates,
                    "first_number": run_tag * 1000 + 10_000_000,
                },
                "floor": {
                    **create_spec,
                    "path": "/bench/floor",
                    "headers": {"Content-Type": "application/json"},
                    "requests": args.creates,
                },
                "orm_floor": {
                    **orm_floor_spec,
                    "path": "/bench/orm-floor",
                    "headers": api_headers,
                    "requests": args.creates,
                    "first_number": run_tag * 1000 + 10_000_000,
                },
                "ticket_floor": {
                    **ticket_floor_spec,
                    "path": "/bench/ticket-floor",
                    "headers": api_headers,
                    "requests": args.creates,
                    "first_number": run_tag * 1000 + 10_000_000,
                },
            },
            args.rounds,
        )
        peak_backlog = backlog.stop()
        load_seconds = time.monotonic() - load_started
        step("the worker drains what is left")
        mail = drain(backlog, mail_count_file, started_at, args.drain_timeout)
        mail.update(peak_backlog=peak_backlog, load_seconds=load_seconds)
        backlog.close()

        ours_mail, ours = driven["ours_mail_on"], driven["ours"]
        floor, orm_floor, ticket_floor = driven["floor"], driven["orm_floor"], driven["ticket_floor"]
        ratio = ours_mail["throughput"] / floor["throughput"] if floor["throughput"] else 0.0
        orm_ratio = orm_floor["throughput"] / floor["throughput"] if floor["throughput"] else 0.0
        ours_to_orm = ours_mail["throughput"] / orm_floor["throughput"] if orm_floor["throughput"] else 0.0
        mail_off_to_orm = ours["throughput"] / orm_floor["throughput"] if orm_floor["throughput"] else 0.0
        mail_on_to_off = ours_mail["throughput"] / ours["throughput"] if ours["throughput"] else 0.0
        ticket_floor_to_orm = (
            ticket_floor["throughput"] / orm_floor["throughput"] if orm_floor["throughput"] else 0.0
        )
        rows.append(
            {
                "name": "create-ticket, mail on (production)",
                **ours_mail,
                "notes": f"{ours_mail['ok']}/{ours_mail['requests']} created; "
                f"statuses {ours_mail['statuses']}; mail on/off = {mail_on_to_off:.2f}",
            }
        )
        rows.append(
            {
                "name": "create-ticket, mail off",
                **ours,
                "notes": f"{ours['ok']}/{ours['requests']} created; ours/ORM floor = {mail_off_to_orm:.2f}",
            }
        )
        rows.append({"name": "floor POST /bench/floor", **floor, "notes": f"ours/floor = {ratio:.2f}"})
        rows.append(
            {
                "name": "ORM floor POST /bench/orm-floor",
                **orm_floor,
                "notes": f"key checked + 1 row, by the ORM; ORM floor/floor = {orm_ratio:.2f}; "
                f"ours (mail on)/ORM floor = {ours_to_orm:.2f}",
            }
        )
        rows.append(
            {
                "name": "ticket floor POST /bench/ticket-floor",
                **ticket_floor,
                "notes": f"a ticket's statements alone, by the ORM (bench/floor.py); "
                f"ticket floor/ORM floor = {ticket_floor_to_orm:.2f}",
            }
        )
        rows.append(mail_row(mail, ours_mail["ok"]))

        step("reads")
        cookie = {"Cookie": f"sessionid={creds['session']}"}
        key_header = {"X-API-Key": creds["api_key"]}
        for name, path, who in reads:
            headers = cookie if who == "agent" else key_header if who == "key" else {}
            drive(mail_port, path=path, headers=headers, requests=2, concurrency=1, timeout=args.timeout)
            result = drive(
                mail_port,
                path=path,
                headers=headers,
                requests=args.reads,
                concurrency=2,
                max_seconds=args.max_seconds,
                timeout=args.timeout,
            )
            plan = plans[name]
            notes = "; ".join([*plan["problems"], *plan["bounded"]]) or "no whole-table scan or count"
            if path == private_path:
                notes += f"; uncached {plan['uncached_ms']:.0f} ms in process, then the thread is cached"
            if result["ok"] != result["requests"] or not result["requests"]:
                # A page that fails or times out is a row of the table, not a crash of the bench.
                notes = (
                    f"FAILED: {result['ok']} ok of {result['requests'] + result['errors']} "
                    f"(statuses {result['statuses']}, {result['first_error'] or 'no error'}); " + notes
                )
                if not result["ok"]:
                    result.update(p50_ms=float("inf"), p99_ms=float("inf"))
            rows.append({"name": name, **result, "queries": plan["queries"], "notes": notes})

        # The webhook rows run workers of their own: the Procfile's worker leaves the queue to them.
        worker_rss = peak_rss_mb(worker.pid)
        stop(worker)
        step(f"webhooks: creates with {webhooks.ENDPOINTS} endpoints, one worker, a receiver down")
        webhook_rows, webhook_checks = webhooks.measure(
            port=port,
            creds=creds,
            args=args,
            env=env,
            drive=drive,
            create_spec=create_spec,
            api_headers=api_headers,
            run_tag=run_tag,
        )
        rows.extend(webhook_rows)
        rows.extend(sla_rows)
        automation_rows, automation_checks = automation.measure(creds=creds, run_tag=run_tag)
        rows.extend(automation_rows)
        step("polling: unchanged polls answered from the shared cache, against a full render")
        rows.extend(
            polling.measure(
                creds=creds, args=args, env=env, drive=drive, start_gunicorn=start_gunicorn, stop=stop
            )
        )

        rss = {pid: peak_rss_mb(pid) for pid in worker_pids(mail_server.pid)}
    finally:
        for process in reversed(processes):
            stop(process)

    peak = max(rss.values(), default=0.0)
    by_name = {row["name"]: row for row in rows}

    def p50(name):
        return by_name[name]["p50_ms"]

    first_page_api = p50("API list /api/v1/tickets (first page)")
    first_page_queue = p50("queue page /desk/ (first page)")
    checks = [
        (
            "create-ticket (mail on) >= 0.3 x ORM floor",
            ours_to_orm >= 0.3,
            f"{ours_to_orm:.2f}; mail off {mail_off_to_orm:.2f} (against the floor: {ratio:.2f}; "
            f"the ORM floor against it: {orm_ratio:.2f}; a ticket's statements alone, "
            f"nothing else: {ticket_floor_to_orm:.2f})",
        ),
        (
            "create-ticket mail on >= 0.8 x mail off",
            mail_on_to_off >= 0.8,
            f"{mail_on_to_off:.2f} ({ours_mail['throughput']:.1f} vs {ours['throughput']:.1f} req/s)",
        ),
        (
            "every mail sent, none failed",
            mail["drained"]
            and mail["sent"] == mail["deliveries"].get("sent", 0)
            and set(mail["deliveries"]) <= {"sent"},
            f"{mail['sent']} received by the sink; deliveries {mail['deliveries']}",
        ),
        (
            # The queue's 11th and 12th: its filter panel's custom fields, the bulk bar's macros.
            "queue <= 12 & API list <= 10 queries",
            all(plans[name]["queries"] <= 12 for name, _, _ in reads[:2])
            and all(plans[name]["queries"] <= 10 for name, _, _ in reads[2:4]),
            ", ".join(str(plans[name]["queries"]) for name, _, _ in reads[:4]),
        ),
        (
            "no whole-table scan or count",
            not any(plans[name]["problems"] for name, _, _ in reads),
            "; ".join(f"{name}: {p}" for name, _, _ in reads for p in plans[name]["problems"]) or "none",
        ),
        (
            f"every list flat ({len(listed)} saved views, sorts, filters, dialect lists)",
            not any(plan["problems"] for plan in listed.values()),
            "; ".join(f"{name}: {p}" for name, plan in listed.items() for p in plan["problems"]) or "none",
        ),
        (
            "deep queue page <= 2x first",
            p50(reads[1][0]) <= 2 * first_page_queue,
            f"{p50(reads[1][0]):.1f} vs {first_page_queue:.1f} ms",
        ),
        (
            "deep API page <= 2x first",
            p50(reads[3][0]) <= 2 * first_page_api,
            f"{p50(reads[3][0]):.1f} vs {first_page_api:.1f} ms",
        ),
        (
            "search <= 3x first page",
            max(p50(reads[4][0]), p50(reads[5][0]), p50(reads[6][0])) <= 3 * first_page_api,
            f"{p50(reads[4][0]):.1f} / {p50(reads[5][0]):.1f} / {p50(reads[6][0]):.1f}"
            f" vs {first_page_api:.1f} ms",
        ),
        (
            "worker peak RSS < 150 MB",
            0 < peak < 150,
            f"{peak:.0f} MB (workers: " + ", ".join(f"{value:.0f}" for value in sorted(rss.values())) + ")",
        ),
    ]
    checks.extend(webhook_checks)
    checks.extend(sla_checks)
    checks.extend(automation_checks)
    when = "when the data was loaded; reused by this run" if facts.get("reused") else "this run"
    extra = [
        f"load: {facts.get('load_seconds', '?')} s COPY + indexes, {facts.get('analyze_seconds', '?')} s"
        f" VACUUM ANALYZE ({when})"
    ]
    extra.append(
        f"gunicorn: {len(rss)} workers; peak RSS of a worker {peak:.0f} MB; "
        f"the task worker {worker_rss:.0f} MB"
    )
    extra.append("targets:")
    for label, passed, detail in checks:
        extra.append(f"  [{'PASS' if passed else 'FAIL'}] {label}: {detail}")
    print_table(rows, facts, extra)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "facts": facts,
                    "rows": rows,
                    "plans": plans,
                    "lists": listed,
                    "rss_mb": rss,
                    "worker_rss_mb": worker_rss,
                    "mail": mail,
                    "checks": checks,
                },
                indent=2,
            )
        )


def dataset_long_thread() -> int:
    from bench.dataset import LONG_THREAD_MESSAGES

    return LONG_THREAD_MESSAGES


if __name__ == "__main__":
    main()
