"""SLA attainment and customer satisfaction over a range of days, aggregated in the database.

*Attainment*: of the tickets created in the range that had an SLA policy (a deleted one
counts on under its name), the share that
missed none of its targets (``Ticket.sla_breached_at`` is empty), per policy, agent
(assignee), inbox and priority; per target, the share not in ``Ticket.sla_breached``
(counted over the breached tickets only, which are few). *CSAT*: of the ratings given in
the range, the share that are good, per agent and inbox, with the latest comments.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from tickets.models import Ticket

from .models import Satisfaction

BREACHED_LIST_LIMIT = 200
CSV_COMMENTS_LIMIT = 1000
# A deleted policy's tickets count on under its name (``Ticket.sla_deleted_policy_name``),
# told apart from a live policy that has the same name.
POLICY_NAME = Coalesce("sla_policy__name", Concat(F("sla_deleted_policy_name"), Value(" (deleted)")))
GROUPS = {
    "policy": ("policy_name", "Policy"),
    "agent": ("assignee__email", "Agent"),
    "inbox": ("inbox__name", "Inbox"),
    "priority": ("priority", "Priority"),
}


@dataclass
class Share:
    label: str
    total: int
    met: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.total, 1) if self.total else None


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
    )


def sla_tickets(organization, start: date, end: date, inbox=None):
    since, before = _bounds(start, end)
    tickets = Ticket.objects.using(settings.REPORTS_DATABASE).filter(
        Q(sla_policy__isnull=False) | ~Q(sla_deleted_policy_name=""),
        organization=organization,
        created_at__gte=since,
        created_at__lt=before,
    )
    if inbox is not None:
        tickets = tickets.filter(inbox=inbox)
    return tickets.order_by()


def attainment(tickets) -> Share:
    counts = tickets.aggregate(
        total=Count("id"), breached=Count("id", filter=Q(sla_breached_at__isnull=False))
    )
    return Share("All", counts["total"], counts["total"] - counts["breached"])


def attainment_by(tickets, group: str) -> list[Share]:
    field, _ = GROUPS[group]
    if group == "policy":
        tickets = tickets.annotate(policy_name=POLICY_NAME)
    rows = (
        tickets.values(field)
        .annotate(total=Count("id"), breached=Count("id", filter=Q(sla_breached_at__isnull=False)))
        .order_by(field)
    )
    # Unassigned as the CSAT tables say it (an agent-less row read "—" here).
    missing = "Unassigned" if group == "agent" else "—"
    return [Share(str(row[field] or missing), row["total"], row["total"] - row["breached"]) for row in rows]


def attainment_by_target(tickets, total: int) -> list[Share]:
    missed = {"first_reply": 0, "next_reply": 0, "resolution": 0}
    for breached in tickets.filter(sla_breached_at__isnull=False).values_list("sla_breached", flat=True):
        for target in breached or ():
            if target in missed:
                missed[target] += 1
    words = {"first_reply": "First reply", "next_reply": "Next reply", "resolution": "Resolution"}
    return [Share(words[target], total, total - count) for target, count in missed.items()]


def breached_list(tickets):
    return (
        tickets.filter(sla_breached_at__isnull=False)
        .select_related("assignee", "inbox")
        .annotate(policy_name=POLICY_NAME)
        .order_by("-sla_breached_at", "-id")[:BREACHED_LIST_LIMIT]
    )


def ratings(organization, start: date, end: date, inbox=None):
    since, before = _bounds(start, end)
    rated = (
        Satisfaction.objects.using(settings.REPORTS_DATABASE)
        .filter(organization=organization, rated_at__gte=since, rated_at__lt=before)
        .exclude(rating="")
    )
    if inbox is not None:
        rated = rated.filter(ticket__inbox=inbox)
    return rated.order_by()


def csat(rated) -> Share:
    counts = rated.aggregate(total=Count("id"), good=Count("id", filter=Q(rating=Satisfaction.Rating.GOOD)))
    return Share("All", counts["total"], counts["good"])


def csat_by(rated, group: str) -> list[Share]:
    field = {"agent": "ticket__assignee__email", "inbox": "ticket__inbox__name"}[group]
    rows = (
        rated.values(field)
        .annotate(total=Count("id"), good=Count("id", filter=Q(rating=Satisfaction.Rating.GOOD)))
        .order_by(field)
    )
    return [Share(str(row[field] or "Unassigned"), row["total"], row["good"]) for row in rows]


def latest_comments(rated, limit: int = 20):
    return rated.exclude(comment="").select_related("ticket").order_by("-rated_at")[:limit]
