"""django-helpdesk's side of the comparison: run by run.py with the scratch virtualenv's
Python, from the scratch project's folder, never with our code importable.

    python theirs.py setup '<json>'    migrate, agents, queues, copy the data set; prints JSON
    python theirs.py queries '<json>'  query count and in-process time of each page; prints JSON
"""

import json
import os
import sys
import time
from pathlib import Path

import mapping

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compare_project.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from helpdesk.models import Queue  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

BIG_TABLES = ["helpdesk_ticket", "helpdesk_followup"]


def log(text: str) -> None:
    print(f"   [theirs] {text}", file=sys.stderr, flush=True)


def stream(source, target, select_sql: str, table: str, columns: list[str]) -> None:
    """COPY the rows of ``select_sql`` on our database into ``table`` on theirs."""
    with (
        source.cursor().copy(f"COPY ({select_sql}) TO STDOUT") as reader,
        target.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as writer,
    ):
        for block in reader:
            writer.write(block)


def setup(spec: dict) -> dict:
    call_command("migrate", interactive=False, verbosity=0)
    User = get_user_model()  # noqa: N806 - a class
    organization_id = spec["organization_id"]
    with psycopg.connect(spec["ours_url"]) as ours:
        agents = ours.execute(
            "SELECT u.id, u.email, u.name FROM accounts_user u JOIN accounts_membership m"
            " ON m.user_id = u.id WHERE m.organization_id = %s ORDER BY u.id",
            [organization_id],
        ).fetchall()
        inboxes = ours.execute(
            "SELECT id, name, prefix FROM tickets_inbox WHERE organization_id = %s ORDER BY id",
            [organization_id],
        ).fetchall()
    # The same ids as ours, so assignees, queues and tickets line up row for row.
    for agent_id, email, name in agents:
        User.objects.create_user(
            id=agent_id, username=email, email=email, first_name=name, password=None, is_staff=True
        )
    for inbox_id, name, prefix in inboxes:
        Queue.objects.create(
            id=inbox_id,
            title=name,
            slug=prefix.lower(),
            email_address=f"{prefix.lower()}@bench.example",
            # A copy of each new ticket to the team, as our agents are notified of one.
            new_ticket_cc="team@bench.example",
        )
    agent = User.objects.get(id=agents[0][0])
    token = Token.objects.create(user=agent).key
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(agent)
    session = client.cookies["sessionid"].value

    log("copying tickets and messages from our database (COPY to COPY)")
    started = time.monotonic()
    with psycopg.connect(spec["ours_url"]) as ours, psycopg.connect(spec["theirs_url"]) as theirs:
        dropped = theirs.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [BIG_TABLES],
        ).fetchall()
        for name, _ in dropped:
            theirs.execute(f'DROP INDEX "{name}"')
        # As bench/dataset.py: foreign keys hold by construction, skip their triggers.
        theirs.execute("SET session_replication_role = replica")
        stream(ours, theirs, mapping.tickets_sql(organization_id), "helpdesk_ticket", mapping.TICKET_COLUMNS)
        stream(
            ours,
            theirs,
            mapping.followups_sql(organization_id),
            "helpdesk_followup",
            mapping.FOLLOWUP_COLUMNS,
        )
        theirs.execute("SET session_replication_role = DEFAULT")
        for _, definition in dropped:
            theirs.execute(definition)
        for table in [*BIG_TABLES, "auth_user", "helpdesk_queue"]:
            theirs.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
        theirs.commit()
        theirs.autocommit = True
        for table in [*BIG_TABLES, "helpdesk_queue", "auth_user"]:
            theirs.execute(f"VACUUM ANALYZE {table}")
        counts = {
            table: theirs.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in BIG_TABLES
        }
        long_thread = theirs.execute(
            "SELECT t.id, t.submitter_email, t.secret_key, q.slug FROM helpdesk_ticket t"
            " JOIN helpdesk_queue q ON q.id = t.queue_id WHERE t.id = %s",
            [spec["long_thread_id"]],
        ).fetchone()
    log(f"copied {counts} in {time.monotonic() - started:.0f} s")
    return {
        "token": token,
        "session": session,
        "queue_id": inboxes[0][0],
        "counts": counts,
        "long_thread": {
            "id": long_thread[0],
            "email": long_thread[1],
            "key": long_thread[2],
            "slug": long_thread[3],
        },
        "load_seconds": round(time.monotonic() - started, 1),
    }


def queries(spec: dict) -> dict:
    """Each page's query count and time, in process with an empty cache, as ours are."""
    User = get_user_model()  # noqa: N806 - a class
    agent = User.objects.get(id=spec["agent_id"])
    results = {}
    for name, path, who in spec["pages"]:
        client = Client(HTTP_HOST="127.0.0.1")
        headers = {}
        if who == "agent":
            client.force_login(agent)
        if who == "token":
            headers["Authorization"] = f"Token {spec['token']}"
        if who != "token":
            # Warm, as ours are: sessions, content types, the site. Not the API list,
            # whose one request reads every ticket.
            client.get(path, headers=headers)
        executed = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(1)
            return execute(sql, params, many, context)

        # Counted by a wrapper, not CaptureQueriesContext: that one keeps the last 9,000
        # queries only, and their API list runs one per ticket.
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = client.get(path, headers=headers)
        results[name] = {
            "queries": len(executed),
            "uncached_ms": round((time.perf_counter() - started) * 1000, 1),
            "status": response.status_code,
        }
        log(f"{name}: {results[name]}")
    return results


if __name__ == "__main__":
    command, argument = sys.argv[1], json.loads(sys.argv[2])
    result = {"setup": setup, "queries": queries}[command](argument)
    Path(argument["output"]).write_text(json.dumps(result))
