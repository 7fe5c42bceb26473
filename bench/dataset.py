"""Fill the bench database with N tickets, fast: COPY through psycopg 3 in big blocks.

Rows are generated in Python with a seeded random generator (the same seed gives the same
data) and streamed to PostgreSQL while they are made.  Every NOT NULL column is filled and
every constraint holds: ULID public ids, per-inbox consecutive numbers and references,
``Inbox.next_number``, one customer per (organization, email) and per external id.
Secondary indexes are dropped during the COPY and rebuilt afterwards, which is several
times faster than maintaining them row by row; constraint indexes stay.
"""

import base64
import html
import json
import random
import sys
import time
from datetime import UTC, datetime

from tickets import search
from tickets.rendering import render_markdown

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAIRS = [CROCKFORD[high] + CROCKFORD[low] for high in range(32) for low in range(32)]

WORDS = (
    "account access invoice refund payment card charge subscription plan upgrade downgrade "
    "cancel renew login password reset email address phone number order shipping delivery "
    "package tracking return exchange warranty broken missing late wrong size color "
    "discount coupon code price tax receipt bill statement balance credit debit bank "
    "transfer error crash bug slow page app mobile desktop browser update version install "
    "download sync backup export import report dashboard settings profile notification "
    "alert message chat support agent team manager admin permission role user customer "
    "trial feature request integration webhook api key token limit quota usage storage "
    "upload file attachment image document pdf spreadsheet calendar meeting schedule "
    "timezone language translation region country currency contract license seat renewal "
    "security privacy data deletion gdpr compliance audit log history restore recover "
    "account locked verification code sms two factor authentication device session"
).split()
# A few words are common, most are rare (as in real text): Zipf-like weights.
WORD_WEIGHTS = [1.0 / (rank + 1) ** 0.9 for rank in range(len(WORDS))]
# The long tail real text has (product names, codes, surnames): 8,000 made-up words, one
# or two in most messages, so a search for one of them matches a few hundred tickets per
# million, as a search for a specific thing does.
SYLLABLES = "ka lo mi nu re sa ti vo be da fe gu hi jo ku la me ni po ru".split()
RARE_WORDS = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES][:8000]
FILLER = "please thanks hello hi could you help me with the my our it this that when since today".split()
FIRST_NAMES = "Ana Ben Chloe David Emma Farid Grace Hugo Ines Jonas Kira Liam Mia Noah Olga Pablo".split()
LAST_NAMES = "Silva Martin Dubois Rossi Novak Kim Nguyen Garcia Smith Ivanova Costa Berg".split()
CATEGORIES = ["", "", "billing", "technical", "account", "shipping", "other"]

STATUS_RECENT = (["open", "in_progress", "resolved", "closed"], [40, 25, 20, 15])
STATUS_OLD = (["open", "in_progress", "resolved", "closed"], [2, 2, 21, 75])
PRIORITIES = (["low", "normal", "high", "urgent", "critical"], [20, 55, 17, 6, 2])
CHANNELS = (["api", "email", "web"], [50, 35, 15])
MESSAGE_COUNTS = ([1, 2, 3, 4, 5, 6, 7, 8], [25, 25, 20, 12, 8, 5, 3, 2])
INBOXES = [("Billing", "INV", 45), ("Technical", "TEC", 35), ("Accounts", "ACC", 20)]

LONG_THREAD_MESSAGES = 200
TWO_YEARS = 2 * 365 * 24 * 3600
RECENT = 30 * 24 * 3600
BLOCK_BYTES = 4 * 1024 * 1024


def ulid(rng: random.Random, seconds: float) -> str:
    value = (int(seconds * 1000) << 80) | rng.getrandbits(80)
    return "".join(PAIRS[(value >> shift) & 1023] for shift in range(120, -10, -10))


def access_key(rng: random.Random) -> str:
    return "tk_" + base64.urlsafe_b64encode(rng.getrandbits(144).to_bytes(18, "big")).decode()


def timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(sep=" ", timespec="seconds")


class Progress:
    """A plain progress line on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.started, self.last = label, max(total, 1), time.monotonic(), 0.0

    def update(self, done: int, force: bool = False):
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        elapsed = now - self.started
        rate = done / elapsed if elapsed else 0
        width = 30
        filled = int(width * done / self.total)
        sys.stderr.write(
            f"\r  {self.label:<10} [{'#' * filled}{'.' * (width - filled)}] "
            f"{done:>10,}/{self.total:,} {rate:>9,.0f}/s {elapsed:6.0f}s"
        )
        sys.stderr.flush()

    def finish(self, done: int):
        self.update(done, force=True)
        sys.stderr.write("\n")


class Copier:
    """One COPY ... FROM STDIN, fed in blocks of a few megabytes."""

    def __init__(self, cursor, table: str, columns: list[str]):
        self.copy_context = cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
        self.copy = self.copy_context.__enter__()
        self.lines: list[str] = []
        self.size = 0

    def row(self, line: str):
        self.lines.append(line)
        self.size += len(line)
        if self.size > BLOCK_BYTES:
            self.flush()

    def flush(self):
        if self.lines:
            self.copy.write("".join(self.lines).encode())
            self.lines, self.size = [], 0

    def close(self):
        self.flush()
        self.copy_context.__exit__(None, None, None)


def rendered(body: str) -> str:
    """What tickets.rendering.render_markdown makes of a generated body (one plain
    paragraph), without running Markdown 2.9 million times; load() checks it agrees."""
    return f"<p>{html.escape(body, quote=False)}</p>"


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, WORD_WEIGHTS, k=rng.randint(low, high))
    fillers = rng.choices(FILLER, k=len(words) // 2)
    mixed = words + fillers + rng.choices(RARE_WORDS, k=rng.choice((0, 1, 1, 2)))
    rng.shuffle(mixed)
    return " ".join(mixed)


# The service levels the data set's tickets were given, as the Standard policy would have:
# a first reply within 4 hours, a resolution within 3 days, a warning at 80 % of each.
SLA_TARGETS = {"first_reply": 4 * 3600, "resolution": 3 * 24 * 3600}
SLA_WARNING_SHARE = 0.8
# Of the solved tickets, this share missed its resolution target once.
SOLVED_BREACH_SHARE = 0.1


def sla_columns(rng: random.Random, status: str, created: float, *, answered: bool, now: float) -> str:
    """sla_breached, sla_fired, the due times, sla_check_at and sla_breached_at of one ticket,
    as the clocks and the escalation scheduler would have left them by ``now``: unsolved
    tickets have running clocks (warnings and breaches already fired, the next check ahead),
    a share of the solved ones was breached on the way."""
    null = r"\N"
    if status in ("resolved", "closed"):
        if rng.random() < SOLVED_BREACH_SHARE:
            due = timestamp(created + SLA_TARGETS["resolution"])
            return f'["resolution"]\t[]\t{null}\t{null}\t{null}\t{null}\t{due}'
        return f"[]\t[]\t{null}\t{null}\t{null}\t{null}\t{null}"
    running = {
        target: created + seconds
        for target, seconds in SLA_TARGETS.items()
        if target != "first_reply" or not answered
    }
    breached, fired, checks = [], [], []
    for target, due in running.items():
        warn = due - SLA_TARGETS[target] * (1 - SLA_WARNING_SHARE)
        if due <= now:
            breached.append(target)
            fired += [f"{target}:warning", f"{target}:breach"]
        elif warn <= now:
            fired.append(f"{target}:warning")
            checks.append(due)
        else:
            checks.append(warn)
    due_at = {target: timestamp(due) for target, due in running.items()}
    breached_at = min((running[target] for target in breached), default=None)
    return "\t".join(
        [
            json.dumps(breached),
            json.dumps(fired),
            due_at.get("first_reply", null),
            due_at["resolution"],
            timestamp(min(running.values())),
            timestamp(min(checks)) if checks else null,
            timestamp(breached_at) if breached_at is not None else null,
        ]
    )


def secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes on ``tables`` that no constraint owns."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [tables],
    )
    return list(cursor.fetchall())


def load(
    connection,
    *,
    tickets: int,
    seed: int,
    organization_id: int,
    inbox_ids: list[int],
    agent_ids: list[int],
    tag_ids: list[str],
    now: float,
) -> dict:
    """Insert ``tickets`` tickets (with customers, messages, tags); return facts the bench needs."""
    rng = random.Random(seed)
    for _ in range(100):
        sample = sentence(rng, 8, 40).capitalize() + "."
        assert rendered(sample) == render_markdown(sample), sample
    rng = random.Random(seed)
    customers = max(tickets // 5, 1)
    start = now - TWO_YEARS
    long_thread_index = tickets // 2
    big_tables = ["tickets_ticket", "tickets_message", "tickets_customer", "tickets_ticket_tags"]

    with connection.cursor() as cursor:
        dropped = secondary_indexes(cursor, big_tables)
        for name, _ in dropped:
            cursor.execute(f'DROP INDEX "{name}"')
        # Foreign keys are right by construction; skipping their per-row triggers during
        # the load (superuser only) halves its time.  They stay declared and enforced.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '512MB'")

        # Customers -------------------------------------------------------------------
        progress = Progress("customers", customers)
        copier = Copier(
            cursor,
            "tickets_customer",
            [
                "id",
                "public_id",
                "organization_id",
                "email",
                "name",
                "external_id",
                "metadata",
                "created_at",
                "updated_at",
                "email_problem",
            ],
        )
        customer_created = timestamp(start - 86400)
        for index in range(1, customers + 1):
            external_id = f"user-{index}" if index % 5 else ""
            metadata = json.dumps({"plan": rng.choice(["free", "pro", "team"]), "tokens": index % 977})
            copier.row(
                f"{index}\t{ulid(rng, start - 86400)}\t{organization_id}\tcustomer{index}@example.com\t"
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}\t{external_id}\t{metadata}\t"
                f"{customer_created}\t{customer_created}\t\n"
            )
            if index % 20000 == 0:
                progress.update(index)
        copier.close()
        progress.finish(customers)

        # Tickets (and their tags) ------------------------------------------------------
        progress = Progress("tickets", tickets)
        ticket_copier = Copier(
            cursor,
            "tickets_ticket",
            [
                "id",
                "public_id",
                "organization_id",
                "inbox_id",
                "number",
                "reference",
                "subject",
                "status",
                "priority",
                "category",
                "type",
                "channel",
                "customer_id",
                "assignee_id",
                "reply_address",
                "metadata",
                "access_key",
                "created_at",
                "updated_at",
                "first_response_at",
                "resolved_at",
                "closed_at",
                "sender_unverified",
                "custom_fields",
                "sla_breached",
                "sla_fired",
                "first_reply_due_at",
                "resolution_due_at",
                "sla_due_at",
                "sla_check_at",
                "sla_breached_at",
            ],
        )
        inbox_weights = [weight for _, _, weight in INBOXES]
        next_numbers = dict.fromkeys(inbox_ids, 1)
        prefixes = {inbox_id: prefix for inbox_id, (_, prefix, _) in zip(inbox_ids, INBOXES, strict=True)}
        # What the message pass needs about each ticket, kept compact.
        created_of, customer_of, assignee_of, count_of, channel_of = [], [], [], [], []
        tag_rows = []
        step = TWO_YEARS / tickets
        # Its own generator: the rest of the data set is what it was before tickets had SLAs.
        sla_rng = random.Random(seed + 1)
        long_thread = {}
        for index in range(tickets):
            ticket_id = index + 1
            created = start + index * step + rng.random() * step * 0.9
            inbox_id = rng.choices(inbox_ids, inbox_weights)[0]
            number = next_numbers[inbox_id]
            next_numbers[inbox_id] = number + 1
            statuses, weights = STATUS_RECENT if now - created < RECENT else STATUS_OLD
            status = rng.choices(statuses, weights)[0]
            messages = LONG_THREAD_MESSAGES if index == long_thread_index else rng.choices(*MESSAGE_COUNTS)[0]
            customer_id = rng.randint(1, customers)
            assignee = rng.choice(agent_ids) if (status != "open" or rng.random() < 0.5) else None
            channel = rng.choices(*CHANNELS)[0]
            gaps = 3600 * (1 + rng.random() * 20)
            last = created + gaps * (messages - 1)
            first_response = timestamp(created + gaps) if messages > 1 else r"\N"
            resolved = timestamp(last + 600) if status in ("resolved", "closed") else r"\N"
            closed = timestamp(last + 90000) if status == "closed" else r"\N"
            updated = last + (90000 if status == "closed" else 600 if status == "resolved" else 0)
            subject = sentence(rng, 3, 8).capitalize()[:200]
            if index == long_thread_index:
                subject = "Long thread: " + subject
            key = access_key(rng)
            public_id = ulid(rng, created)
            if index == long_thread_index:
                long_thread = {"id": ticket_id, "public_id": public_id, "access_key": key}
            # One ticket in five carries an order number (a custom field): what the
            # custom-field filter of the automation rows looks for. Not drawn from ``rng``,
            # so the rest of the data stays as it was.
            custom_fields = json.dumps({"order_id": f"A-{ticket_id}"}) if ticket_id % 5 == 0 else "{}"
            ticket_copier.row(
                f"{ticket_id}\t{public_id}\t{organization_id}\t{inbox_id}\t{number}\t"
                f"{prefixes[inbox_id]}-{number}\t{subject}\t{status}\t{rng.choices(*PRIORITIES)[0]}\t"
                f"{rng.choice(CATEGORIES)}\t\t{channel}\t{customer_id}\t"
                f"{assignee if assignee else chr(92) + 'N'}\t\t{{}}\t{key}\t{timestamp(created)}\t"
                f"{timestamp(updated)}\t{first_response}\t{resolved}\t{closed}\tf\t{custom_fields}\t"
                f"{sla_columns(sla_rng, status, created, answered=messages > 1, now=now)}\n"
            )
            if rng.random() < 0.3:
                for tag_id in rng.sample(tag_ids, rng.choice((1, 1, 2))):
                    tag_rows.append((ticket_id, tag_id))
            created_of.append(created)
            customer_of.append(customer_id)
            assignee_of.append(assignee or rng.choice(agent_ids))
            count_of.append(messages)
            channel_of.append(channel)
            if ticket_id % 20000 == 0:
                progress.update(ticket_id)
        ticket_copier.close()
        progress.finish(tickets)

        copier = Copier(cursor, "tickets_ticket_tags", ["id", "ticket_id", "tag_id"])
        for row_id, (ticket_id, tag_id) in enumerate(tag_rows, start=1):
            copier.row(f"{row_id}\t{ticket_id}\t{tag_id}\n")
        copier.close()

        # Messages ----------------------------------------------------------------------
        total_messages = sum(count_of)
        progress = Progress("messages", total_messages)
        copier = Copier(
            cursor,
            "tickets_message",
            [
                "id",
                "public_id",
                "ticket_id",
                "kind",
                "author_type",
                "author_user_id",
                "author_customer_id",
                "channel",
                "body",
                "body_html",
                "email_message_id",
                "raw_email",
                "created_at",
            ],
        )
        message_id = 0
        for index in range(tickets):
            created = created_of[index]
            gaps = 3600 * 2
            for position in range(count_of[index]):
                message_id += 1
                at = created + position * gaps
                body = sentence(rng, 8, 40).capitalize() + "."
                body_html = rendered(body)
                if position % 2 == 0:
                    author = f"customer\t\\N\t{customer_of[index]}\t{channel_of[index]}"
                    line = f"reply\t{author}\t{body}\t{body_html}"
                else:
                    kind = "note" if rng.random() < 0.1 else "reply"
                    line = f"{kind}\tagent\t{assignee_of[index]}\t\\N\tagent\t{body}\t{body_html}"
                copier.row(f"{message_id}\t{ulid(rng, at)}\t{index + 1}\t{line}\t\t\t{timestamp(at)}\n")
            if message_id % 50000 < count_of[index]:
                progress.update(message_id)
        copier.close()
        progress.finish(total_messages)

        step_started = time.monotonic()
        print("search documents: one UPDATE of every ticket ...", end="", file=sys.stderr, flush=True)
        cursor.execute(search.FILL_ALL_SQL)
        print(f" {time.monotonic() - step_started:.0f} s", file=sys.stderr, flush=True)

        cursor.execute("SET session_replication_role = DEFAULT")
        for inbox_id, next_number in next_numbers.items():
            cursor.execute("UPDATE tickets_inbox SET next_number = %s WHERE id = %s", [next_number, inbox_id])
        for table in big_tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )

        progress = Progress("indexes", len(dropped))
        for done, (_, definition) in enumerate(dropped, start=1):
            cursor.execute(definition)
            progress.update(done, force=True)
        progress.finish(len(dropped))

    return {
        "tickets": tickets,
        "customers": customers,
        "messages": total_messages,
        "long_thread": long_thread,
    }
