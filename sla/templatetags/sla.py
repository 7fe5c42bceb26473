"""``{% sla_badge ticket %}``: the time left on a ticket's earliest running SLA target, in
working time, for the queue rows and the ticket page.

It reads only what the ticket row holds (the stored due times) and the organization's
calendars from the shared cache, once per request: no query per row.
"""

from datetime import timedelta

from django import template
from django.utils import timezone

from accounts.models import Organization
from sla import services
from sla.calendar import ALWAYS

register = template.Library()

TARGET_WORDS = {"first_reply": "First reply", "next_reply": "Next reply", "resolution": "Resolution"}
# Without a warning of its own, a target this close counts as a warning.
SOON = timedelta(hours=1)


def _levels(context, organization_id: int):
    request = context.get("request")
    memo = getattr(request, "_sla_levels", None) if request is not None else None
    if memo is None:
        memo = {}
        if request is not None:
            request._sla_levels = memo
    if organization_id not in memo:
        # The dashboard's own organization is on the request; another costs one query.
        organization = getattr(request, "organization", None)
        if organization is None or organization.pk != organization_id:
            organization = Organization.objects.only("sla_version").get(pk=organization_id)
        memo[organization_id] = services.organization_levels(organization)
    return memo[organization_id]


def duration_words(left: timedelta) -> str:
    minutes = int(abs(left).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} m"
    return f"{minutes} m"


def badge(context, ticket) -> dict | None:
    running = services.running_clocks(ticket)
    if not running:
        return None
    target, due = min(running.items(), key=lambda item: item[1])
    levels = _levels(context, ticket.organization_id)
    policy = levels.policy(ticket.sla_policy_id)
    calendar = levels.calendar_for(policy, ticket.inbox_id) if policy else ALWAYS
    now = timezone.now()
    left = services.working_time_between(calendar, now, due) if due > now else due - now
    if left <= timedelta():
        state, text = "breached", f"{TARGET_WORDS[target]} overdue {duration_words(left)}"
    else:
        warned = f"{target}:warning" in ticket.sla_fired
        state = "warning" if warned or left <= SOON else "ok"
        text = f"{TARGET_WORDS[target]} in {duration_words(left)}"
    return {"state": state, "text": text, "due": due, "target": target}


@register.inclusion_tag("sla/badge.html", takes_context=True)
def sla_badge(context, ticket):
    return {"badge": badge(context, ticket)}


@register.filter
def sla_target(value: str) -> str:
    """first_reply -> First reply."""
    return TARGET_WORDS.get(value, value)
