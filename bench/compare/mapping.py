"""How our data set becomes django-helpdesk's: the status and priority maps and the SQL.

Pure Python with no import of Django or of our apps: run.py (our virtualenv) and
theirs.py (django-helpdesk's virtualenv) both import it, and so do the tests.
The rows are read from our loaded database with ``COPY (SELECT ...) TO STDOUT`` and
written into theirs with ``COPY ... FROM STDIN``, so the two hold the same tickets.
"""

# Ticket.Status -> django-helpdesk's integer statuses. Theirs have no "in progress": a
# ticket someone works on is still Open (1) there; Reopened (2) is the other status their
# list shows by default, so in_progress maps to it and both default lists (our "open"
# view: every unsolved status; their list: Open + Reopened) hold the same tickets. They
# have no pending or on hold either: those are unsolved, so Reopened too.
STATUS_MAP = {"open": 1, "in_progress": 2, "pending": 2, "on_hold": 2, "resolved": 3, "closed": 4}
# Their five priorities are 1 Critical, 2 High, 3 Normal, 4 Low, 5 Very low: ours has
# urgent between high and critical, folded into their Critical.
PRIORITY_MAP = {"critical": 1, "urgent": 1, "high": 2, "normal": 3, "low": 4}
THEIR_OPEN_STATUSES = (1, 2)

TICKET_COLUMNS = [
    "id",
    "title",
    "created",
    "modified",
    "submitter_email",
    "assigned_to_id",
    "status",
    "on_hold",
    "description",
    "priority",
    "queue_id",
    "secret_key",
]
FOLLOWUP_COLUMNS = ["id", "ticket_id", "date", "title", "comment", "public", "user_id"]


def case_sql(column: str, mapping: dict[str, int]) -> str:
    """A CASE expression mapping ``column``'s text values; NULL for an unmapped one, which
    the NOT NULL columns of theirs reject, so a new status cannot slip through unmapped."""
    for key in mapping:
        if not key.replace("_", "").isalnum():
            raise ValueError(f"not a plain value: {key!r}")
    arms = " ".join(f"WHEN '{key}' THEN {value}" for key, value in mapping.items())
    return f"CASE {column} {arms} END"


def tickets_sql(organization_id: int) -> str:
    """Our tickets in the column order of TICKET_COLUMNS: the customer's email becomes the
    submitter_email, the first message the description, the inbox the queue (same id)."""
    return f"""
        SELECT t.id, t.subject, t.created_at, t.updated_at, c.email, t.assignee_id,
               {case_sql("t.status", STATUS_MAP)}, false,
               (SELECT m.body FROM tickets_message m WHERE m.ticket_id = t.id ORDER BY m.id LIMIT 1),
               {case_sql("t.priority", PRIORITY_MAP)}, t.inbox_id, t.access_key
        FROM tickets_ticket t JOIN tickets_customer c ON c.id = t.customer_id
        WHERE t.organization_id = {int(organization_id)}
        ORDER BY t.id
    """  # noqa: S608 - an int and constants only


def followups_sql(organization_id: int) -> str:
    """Every message as a follow-up, in FOLLOWUP_COLUMNS' order; an internal note is a
    private follow-up, a customer's message one without a user."""
    return f"""
        SELECT m.id, m.ticket_id, m.created_at,
               CASE WHEN m.author_type = 'customer' THEN 'Comment from the customer'
                    ELSE 'Comment' END,
               m.body, m.kind <> 'note', m.author_user_id
        FROM tickets_message m JOIN tickets_ticket t ON t.id = m.ticket_id
        WHERE t.organization_id = {int(organization_id)}
        ORDER BY m.id
    """  # noqa: S608 - an int and constants only


def ratio(ours_ms: float, theirs_ms: float) -> str:
    """How many times faster ours is (theirs / ours), as the table prints it."""
    if theirs_ms == float("inf"):
        return "timeout"
    if not ours_ms or not theirs_ms:
        return "-"
    value = theirs_ms / ours_ms
    return f"{value:.1f}x" if value >= 1 else f"{value:.2f}x"
