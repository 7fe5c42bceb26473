#!/usr/bin/env python
"""Helpdesk side by side with django-helpdesk 2.6.1: same PostgreSQL, same data, same load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/compare/run.py --tickets 100000

1. builds a scratch virtualenv under .bench-compare/ (git-ignored) with django-helpdesk
   2.6.1 from PyPI and the Django/DRF it supports, and writes a minimal project for it;
2. loads N tickets into ``compare_ours`` with bench/dataset.py (COPY), then copies the
   same tickets, customers' emails and messages into django-helpdesk's schema in
   ``compare_theirs`` (COPY to COPY, statuses mapped: bench/compare/mapping.py);
3. counts each page's queries in process, then runs both under gunicorn on 127.0.0.1
   with the same gunicorn.conf.py, workers and threads, and drives the same kind of
   requests from separate processes (bench/load.py), ours and theirs taking turns in
   rounds so a change of machine load falls on both alike; mail goes to a local SMTP sink;
4. prints one table, then stops every process it started and drops both databases.
"""

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import mapping, project  # noqa: E402
from bench.dataset import LONG_THREAD_MESSAGES  # noqa: E402
from bench.run import (  # noqa: E402 - importable once ROOT is on the path
    PRODUCTION_ENV,
    SEARCH_TERM,
    _summed,
    credentials,
    deep_pages,
    drive,
    free_port,
    load_data,
    measure_queries,
    peak_rss_mb,
    prepare_database,
    start_gunicorn,
    step,
    worker_pids,
)

SCRATCH = ROOT / ".bench-compare"
VENV = SCRATCH / "venv"
PROJECT = SCRATCH / "project"
OURS_DB, THEIRS_DB = "compare_ours", "compare_theirs"
THEIRS_SECRET = "compare-only-secret-key-not-for-production-0123456789abcdef"  # noqa: S105 - scratch only
CREATE_MESSAGE = "Hello, the invoice download fails with an error since this morning. Thanks!"


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to load (default 100,000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the data set")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, each side (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker, each side (default 2)")
    parser.add_argument("--rounds", type=int, default=4, help="turns ours and theirs take per measure")
    parser.add_argument("--reads", type=int, default=60, help="requests per read measure, each side")
    parser.add_argument("--creates", type=int, default=300, help="requests per create measure, each side")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads for the creates")
    parser.add_argument("--deep-page", type=int, default=100, help="the deep page of the ticket list")
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a read request fails")
    parser.add_argument(
        "--api-timeout", type=float, default=60, help="seconds before their API list request is given up"
    )
    parser.add_argument("--api-requests", type=int, default=2, help="requests of their API list (slow)")
    parser.add_argument(
        "--drain-timeout", type=float, default=300, help="seconds to wait for our worker to send the mails"
    )
    parser.add_argument("--keep", action="store_true", help="keep both databases at the end")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    return parser.parse_args()


def database_urls() -> tuple[str, str, str]:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/compare/run.py needs DATABASE_URL pointing at PostgreSQL (postgres://...)")

    def named(name):
        return urlunsplit(parts._replace(path=f"/{name}"))

    return named(OURS_DB), named(THEIRS_DB), named("postgres")


# The scratch virtualenv ------------------------------------------------------------------


def scratch_virtualenv() -> Path:
    """django-helpdesk's virtualenv, made once and remade when REQUIREMENTS change."""
    marker = VENV / "compare-requirements.txt"
    wanted = "\n".join(project.REQUIREMENTS)
    python = VENV / "bin" / "python"
    if not (python.exists() and marker.exists() and marker.read_text() == wanted):
        step(f"scratch virtualenv {VENV.relative_to(ROOT)}: {', '.join(project.REQUIREMENTS)}")
        # The same interpreter as ours (django-helpdesk 2.6.1 supports 3.10 to 3.15).
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *project.REQUIREMENTS,
            ],
            check=True,
        )
        marker.write_text(wanted)
    project.write_project(PROJECT)
    return python


def theirs_env(theirs_url: str, smtp_port: int) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": theirs_url,
        "SECRET_KEY": THEIRS_SECRET,
        "EMAIL_PORT": str(smtp_port),
        "DJANGO_SETTINGS_MODULE": "compare_project.settings",
        "PYTHONPATH": "",
    }


def run_theirs(python: Path, env: dict, command: str, spec: dict) -> dict:
    output = SCRATCH / f"theirs-{command}.json"
    subprocess.run(
        [
            str(python),
            str(ROOT / "bench" / "compare" / "theirs.py"),
            command,
            json.dumps({**spec, "output": str(output)}),
        ],
        cwd=PROJECT,
        env=env,
        check=True,
    )
    return json.loads(output.read_text())


# Processes -------------------------------------------------------------------------------


def wait_healthy(server: subprocess.Popen, port: int, name: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{name} gunicorn exited at start")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310 - 127.0.0.1
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{name} gunicorn did not answer /healthz within 90 s")


def start_theirs(python: Path, env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(python.parent / "gunicorn"), "compare_project.wsgi", "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=PROJECT,
        env={
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "WEB_THREADS": str(threads),
            "GUNICORN_ACCESS_LOG": "",
            "GUNICORN_LOG_LEVEL": "warning",
        },
    )
    wait_healthy(server, port, "django-helpdesk")
    return server


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM the process we started, by its PID; SIGKILL it if it lingers."""
    if process is None or process.poll() is not None:
        return
    children = worker_pids(process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    # A gunicorn worker still inside a long request (their API list) can outlive its
    # master: end those too, by the PIDs they had, if they are still gunicorn.
    for pid in children:
        try:
            if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
        except OSError:  # gone already
            continue


def peak_rss(server: subprocess.Popen) -> list[float]:
    return sorted(peak_rss_mb(pid) for pid in worker_pids(server.pid))


def sink_counts(path: Path) -> dict[str, int]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def settled_counts(path: Path, quiet: float = 3, longest: float = 180) -> dict[str, int]:
    """The sink's counts once no mail has arrived for ``quiet`` seconds: ours are sent by
    the worker after the response, and the sink writes its counts twice a second."""
    counts, settled, deadline = sink_counts(path), time.monotonic(), time.monotonic() + longest
    while time.monotonic() - settled < quiet and time.monotonic() < deadline:
        time.sleep(0.5)
        latest = sink_counts(path)
        if latest != counts:
            counts, settled = latest, time.monotonic()
    return counts


def drain_tasks(longest: float) -> tuple[float, int]:
    """Seconds until our task queue (TASKS_BACKEND=database) is empty, and what is left."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    started = time.monotonic()
    while waiting.exists() and time.monotonic() - started < longest:
        time.sleep(0.5)
    return time.monotonic() - started, waiting.count()


# Measures --------------------------------------------------------------------------------


def their_list_path(search: str = "", page: int = 1, per_page: int = 25) -> str:
    """The JSON the rows of their ticket list come from (ticket_list.html fetches it): their
    default query (Open and Reopened, sorted by created), one page of ``per_page`` rows."""
    query = {"filtering": {"status__in": list(mapping.THEIR_OPEN_STATUSES)}, "sorting": "created"}
    query.update(sortreverse=False, search_string=search)
    encoded = base64.b64encode(json.dumps(query).encode()).decode()
    return f"/datatables_ticket_list/{encoded}?draw=1&start={(page - 1) * per_page}&length={per_page}"


def interleaved(sides: dict[str, tuple[int, dict]], rounds: int) -> dict[str, dict]:
    """Each side in turn, ``rounds`` times over, each time a share of its requests."""
    parts: dict[str, list[dict]] = {name: [] for name in sides}
    for round_number in range(rounds):
        for name, (port, spec) in sides.items():
            total = spec["requests"]
            share = total // rounds + (1 if round_number < total % rounds else 0)
            if not share:
                continue
            first = spec.get("first_number", 1) + round_number * total
            parts[name].append(drive(port, **{**spec, "requests": share, "first_number": first, "raw": True}))
    return {name: _summed(results) for name, results in parts.items()}


def failed(result: dict) -> bool:
    return not result["requests"] or result["ok"] != result["requests"]


def describe_failure(result: dict) -> str:
    if not failed(result):
        return ""
    return (
        f"{result['ok']} ok of {result['requests'] + result['errors']} "
        f"({result['first_error'] or result['statuses']})"
    )


def print_table(rows: list[dict], header: list[str]) -> None:
    title = (
        f"{'measure':<34} {'ours p50':>9} {'ours/s':>7} {'theirs p50':>11} {'theirs/s':>8} "
        f"{'ratio':>8} {'queries':>13}  notes"
    )
    print()
    for line in header:
        print(line)
    print(title)
    print("-" * len(title))
    for row in rows:
        ours, theirs = row["ours"], row["theirs"]

        def p50(result):
            if result is None:
                return "-"
            return "timeout" if result["p50_ms"] == float("inf") else f"{result['p50_ms']:.1f}"

        def rate(result):
            return "-" if result is None else f"{result['throughput']:.1f}"

        ratio = mapping.ratio(ours["p50_ms"], theirs["p50_ms"]) if theirs else "-"
        queries = row.get("queries", "")
        print(
            f"{row['name']:<34} {p50(ours):>9} {rate(ours):>7} {p50(theirs):>11} {rate(theirs):>8} "
            f"{ratio:>8} {queries:>13}  {row.get('notes', '')}"
        )
    print("-" * len(title))


def main() -> None:  # noqa: C901, PLR0915 - one run, told in order
    args = parse_args()
    ours_url, theirs_url, admin_url = database_urls()
    load_before = os.getloadavg()
    started = time.monotonic()
    python = scratch_virtualenv()
    for name in (OURS_DB, THEIRS_DB):
        prepare_database(admin_url, name, reuse=False)

    # Ours: bench/run.py's production settings, data set and credentials -------------------
    ours_env = {**os.environ, **PRODUCTION_ENV, "DATABASE_URL": ours_url}
    os.environ.update({key: ours_env[key] for key in [*PRODUCTION_ENV, "DATABASE_URL"]})
    os.chdir(ROOT)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse

    from accounts.models import Organization, User
    from tickets.models import Ticket

    step(f"ours: migrate {OURS_DB} and load {args.tickets:,} tickets")
    call_command("migrate", interactive=False, verbosity=0)
    facts = load_data(argparse.Namespace(tickets=args.tickets, seed=args.seed))
    creds = credentials()
    organization = Organization.objects.get(slug="bench")
    agent = User.objects.get(email="agent0@bench.example")
    long_thread = facts["long_thread"]
    long_ticket = Ticket.objects.get(pk=long_thread["id"])
    deep_page, _ = deep_pages(args.deep_page)
    ours_paths = {
        "list": "/desk/",
        "deep": f"/desk/?page={deep_page}",
        "search": f"/desk/?q={SEARCH_TERM}",
        "thread": reverse("dashboard:ticket", args=[long_ticket.public_id]),
        "customer": reverse("portal:ticket", args=[long_thread["public_id"], long_thread["access_key"]]),
        "api": "/api/v1/tickets",
    }

    # Theirs: the same rows, copied -------------------------------------------------------
    smtp_port = free_port()
    env_theirs = theirs_env(theirs_url, smtp_port)
    step(f"theirs: migrate {THEIRS_DB} and copy the same data set")
    theirs_facts = run_theirs(
        python,
        env_theirs,
        "setup",
        {"ours_url": ours_url, "theirs_url": theirs_url, "organization_id": organization.pk}
        | {"long_thread_id": long_thread["id"]},
    )
    their_thread = theirs_facts["long_thread"]
    theirs_paths = {
        "list": their_list_path(),
        "deep": their_list_path(page=deep_page),
        "search": their_list_path(search=SEARCH_TERM),
        "thread": f"/tickets/{their_thread['id']}/",
        "customer": f"/view/?ticket={their_thread['slug']}-{their_thread['id']}"
        f"&email={their_thread['email']}&key={their_thread['key']}",
        "api": "/api/tickets/",
    }
    measures = [
        (
            "list",
            "ticket list, first page",
            "agent",
            "ours: /desk/ HTML, 25 rows; theirs: the JSON of 25 rows",
        ),
        ("deep", f"ticket list, page {deep_page}", "agent", "same shapes as the first page"),
        (
            "search",
            f"search '{SEARCH_TERM}' (open)",
            "agent",
            "ours: full-text; theirs: icontains on 10 fields",
        ),
        ("thread", f"{LONG_THREAD_MESSAGES}-message ticket (agent)", "agent", ""),
        ("customer", "customer's page of that ticket", "none", "ours: private link; theirs: /view/ + key"),
        ("api", "API list, first page", "key", "theirs capped: see notes"),
    ]

    step("query counts in process (ours, then theirs)")
    ours_queries = {}
    for key, _, who, _ in measures:
        ours_queries[key] = measure_queries(
            ours_paths[key],
            headers={"X-API-Key": creds["api_key"]} if who == "key" else None,
            agent=who == "agent",
        )["queries"]
    connection.close()
    their_who = {"agent": "agent", "none": "none", "key": "token"}
    theirs_queries = run_theirs(
        python,
        env_theirs,
        "queries",
        {
            "agent_id": agent.pk,
            "token": theirs_facts["token"],
            "pages": [[key, theirs_paths[key], their_who[who]] for key, _, who, _ in measures],
        },
    )

    ours_cookie = {"Cookie": f"sessionid={creds['session']}"}
    theirs_cookie = {"Cookie": f"sessionid={theirs_facts['session']}"}
    ours_headers = {"agent": ours_cookie, "none": {}, "key": {"X-API-Key": creds["api_key"]}}
    theirs_headers = {
        "agent": theirs_cookie,
        "none": {},
        "key": {"Authorization": f"Token {theirs_facts['token']}"},
    }
    run_tag = int(time.time()) * 1000
    ours_create = {
        "method": "POST",
        "path": "/api/v1/tickets",
        "headers": {**ours_headers["key"], "Content-Type": "application/json"},
        "body": json.dumps(
            {
                "inbox": creds["inbox"],
                "customer": {"email": "load-__N__@bench.example", "name": "Load Customer"},
                "subject": "Cannot download the invoice __N__",
                "message": CREATE_MESSAGE,
                "priority": "normal",
            }
        ),
        "expect_status": 201,
        "concurrency": args.concurrency,
        "requests": args.creates,
        "max_seconds": 300,
    }
    theirs_create = {
        **ours_create,
        "path": "/api/tickets/",
        "headers": {**theirs_headers["key"], "Content-Type": "application/json"},
        "body": json.dumps(
            {
                "queue": theirs_facts["queue_id"],
                "title": "Cannot download the invoice __N__",
                "description": CREATE_MESSAGE,
                "submitter_email": "load-__N__@bench.example",
                "priority": 3,
            }
        ),
    }

    processes: list[subprocess.Popen] = []
    rows: list[dict] = []
    counts_file = SCRATCH / "sink-counts.json"
    try:
        sink = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "compare" / "sink.py"), str(smtp_port), str(counts_file)]
        )
        processes.append(sink)
        server_env = {**ours_env, "WEB_THREADS": str(args.threads)}
        ours_port, theirs_port = free_port(), free_port()
        step(
            f"phase 1: ours (mail off) on :{ours_port}, theirs on :{theirs_port}, "
            f"{args.workers}x{args.threads} each"
        )
        ours_server = start_gunicorn(server_env, ours_port, args.workers)
        processes.append(ours_server)
        theirs_server = start_theirs(python, env_theirs, theirs_port, args.workers, args.threads)
        processes.append(theirs_server)

        for key, label, who, notes in measures:
            if key == "api":
                continue
            step(f"{label}: {args.reads} requests each, in {args.rounds} rounds")
            read = {"requests": args.reads, "concurrency": 2, "timeout": args.timeout, "max_seconds": 300}
            ours_spec = {**read, "path": ours_paths[key], "headers": ours_headers[who]}
            theirs_spec = {**read, "path": theirs_paths[key], "headers": theirs_headers[who]}
            drive(ours_port, **{**ours_spec, "requests": 2, "concurrency": 1})
            drive(theirs_port, **{**theirs_spec, "requests": 2, "concurrency": 1})
            result = interleaved(
                {"ours": (ours_port, ours_spec), "theirs": (theirs_port, theirs_spec)}, args.rounds
            )
            rows.append({"key": key, "name": label, **result, "notes": notes})

        step(
            f"create, ours mail off vs theirs (mails in the request): {args.creates} each, "
            f"{args.concurrency} threads"
        )
        drive(ours_port, **{**ours_create, "requests": 10, "first_number": run_tag})
        drive(theirs_port, **{**theirs_create, "requests": 10, "first_number": run_tag})
        before = settled_counts(counts_file)
        result = interleaved(
            {
                "ours": (ours_port, {**ours_create, "first_number": run_tag + 1_000_000}),
                "theirs": (theirs_port, {**theirs_create, "first_number": run_tag + 1_000_000}),
            },
            args.rounds,
        )
        their_mails = sum(settled_counts(counts_file).values()) - sum(before.values())
        rows.append(
            {
                "key": "create_off",
                "name": "create, ours mail off",
                **result,
                "notes": "theirs always mails: "
                f"{their_mails / max(result['theirs']['ok'], 1):.1f} mails per create, "
                "rendered and sent in the request",
            }
        )

        step("API list: ours, then theirs with a short timeout (it reads every ticket)")
        api_ours = {"path": ours_paths["api"], "headers": ours_headers["key"], "timeout": args.timeout}
        drive(ours_port, **api_ours, requests=2, concurrency=1)
        ours_api = drive(ours_port, **api_ours, requests=args.reads, concurrency=2, max_seconds=300)
        theirs_api = drive(
            theirs_port,
            path=theirs_paths["api"],
            headers=theirs_headers["key"],
            requests=args.api_requests,
            concurrency=1,
            timeout=args.api_timeout,
            max_seconds=args.api_timeout * args.api_requests + 5,
        )
        api_note = f"theirs: {args.api_requests} request(s), {args.api_timeout:.0f} s timeout"
        if failed(theirs_api):
            api_note += f"; {describe_failure(theirs_api)}"
            if not theirs_api["ok"]:
                theirs_api.update(p50_ms=float("inf"), throughput=0.0)
        rows.append({"key": "api", "name": "API list, first page", "ours": ours_api, "theirs": theirs_api})
        rows[-1]["notes"] = api_note

        ours_rss, theirs_rss = peak_rss(ours_server), peak_rss(theirs_server)
        stop(ours_server)
        # Theirs is restarted too: a timed-out API list may still run in its worker.
        stop(theirs_server)

        step("phase 2: ours with mail on (SMTP sink, TASKS_BACKEND=database, one db_worker)")
        mail_env = {
            **server_env,
            "SUPPORT_EMAIL_SENDER": "smtp",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
        }
        ours_port, theirs_port = free_port(), free_port()
        ours_server = start_gunicorn(mail_env, ours_port, args.workers)
        processes.append(ours_server)
        worker_log = (SCRATCH / "db_worker.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker"],
            cwd=ROOT,
            env=mail_env,
            stdout=worker_log,
            stderr=worker_log,
        )
        processes.append(worker)
        theirs_server = start_theirs(python, env_theirs, theirs_port, args.workers, args.threads)
        processes.append(theirs_server)
        drive(ours_port, **{**ours_create, "requests": 10, "first_number": run_tag + 2_000_000})
        drive(theirs_port, **{**theirs_create, "requests": 10, "first_number": run_tag + 2_000_000})
        before = settled_counts(counts_file)
        result = interleaved(
            {
                "ours": (ours_port, {**ours_create, "first_number": run_tag + 3_000_000}),
                "theirs": (theirs_port, {**theirs_create, "first_number": run_tag + 3_000_000}),
            },
            args.rounds,
        )
        # Ours sends from the worker after the response: wait until its queue is empty.
        drain_seconds, pending = drain_tasks(args.drain_timeout)
        after = settled_counts(counts_file)
        sent = {sender: after.get(sender, 0) - before.get(sender, 0) for sender in after}
        ours_sent = sum(count for sender, count in sent.items() if not sender.endswith("@bench.example"))
        theirs_sent = sum(count for sender, count in sent.items() if sender.endswith("@bench.example"))
        rows.append(
            {
                "key": "create_on",
                "name": "create, mail on (both)",
                **result,
                "notes": f"mails per create: ours {ours_sent / max(result['ours']['ok'], 1):.1f} "
                f"(by the worker, after the response; its queue drained {drain_seconds:.0f} s after the "
                f"last create{f', {pending} tasks still pending' if pending else ''}), "
                f"theirs {theirs_sent / max(result['theirs']['ok'], 1):.1f} (in the request)",
            }
        )
    finally:
        for process in reversed(processes):
            stop(process)

    rss_row = {
        "key": "rss",
        "name": "worker peak RSS, MB (phase 1)",
        "ours": {"p50_ms": max(ours_rss, default=0), "throughput": 0.0},
        "theirs": {"p50_ms": max(theirs_rss, default=0), "throughput": 0.0},
        "notes": "VmHWM; workers: ours "
        + ", ".join(f"{value:.0f}" for value in ours_rss)
        + "; theirs "
        + ", ".join(f"{value:.0f}" for value in theirs_rss),
    }
    for row in rows:
        if row["key"] in ours_queries:
            row["queries"] = f"{ours_queries[row['key']]} / {theirs_queries[row['key']]['queries']}"
            if theirs_queries[row["key"]]["status"] != 200:
                row["notes"] += f"; theirs in process answered {theirs_queries[row['key']]['status']}"
        for side in ("ours", "theirs"):
            if failed(row[side]) and row["key"] != "api":
                row["notes"] += f"; {side} FAILED {describe_failure(row[side])}"
                if not row[side]["ok"]:
                    row[side].update(p50_ms=float("inf"), throughput=0.0)
    rss_row["notes"] += " (ratio: theirs / ours, smaller is ours)"
    load_after = os.getloadavg()
    header = [
        f"Helpdesk vs django-helpdesk 2.6.1 (Django 6.0.10): {facts['tickets']:,} tickets, "
        f"{facts['messages']:,} messages, {facts['customers']:,} customers; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"{os.cpu_count()} cores; load average {load_before[0]:.2f} at the start, "
        f"{load_after[0]:.2f} at the end; "
        f"gunicorn {args.workers} workers x {args.threads} threads each; reads {args.reads} requests each "
        f"(2 client threads), creates {args.creates} ({args.concurrency} threads), {args.rounds} rounds",
        f"theirs loaded: {theirs_facts['counts']} in {theirs_facts['load_seconds']} s; "
        "p50 in ms, ratio = theirs p50 / ours p50; queries = ours / theirs, in process",
    ]
    print_table([*rows, rss_row], header)
    print(f"\nrun took {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"header": header, "rows": [*rows, rss_row]}, indent=2, default=str))
    if not args.keep:
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in (OURS_DB, THEIRS_DB):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        step(f"dropped {OURS_DB} and {THEIRS_DB}")


if __name__ == "__main__":
    main()
