"""Template helpers of the agent dashboard."""

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from tickets.rendering import render_markdown
from tickets.selectors import unread_notification_count

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    """Message bodies: Markdown rendered and sanitized by tickets.rendering."""
    return mark_safe(render_markdown(text))  # noqa: S308 - nh3 has sanitized it


@register.filter
def initials(name: str) -> str:
    parts = [part for part in (name or "?").replace("@", " ").replace(".", " ").split() if part]
    return "".join(part[0] for part in parts[:2]).upper() or "?"


@register.simple_tag(takes_context=True)
def header_state(context) -> dict:
    """The header's switches: the agent's organizations and their unread notifications."""
    request = context["request"]
    user = request.user
    if not user.is_authenticated:
        return {"memberships": [], "unread_count": 0}
    return {
        "memberships": sorted(request.memberships, key=lambda membership: membership.organization.name),
        "unread_count": unread_notification_count(user),
    }


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def ago(value) -> str:
    """ "just now", "5 minutes ago", "3 days ago": one unit, as people say it."""
    if not value:
        return ""

    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def waited(value) -> str:
    """How long since ``value``, short, as a queue row says it: "5 min", "2 h", "3 d"."""
    if not value:
        return ""
    seconds = max(int((timezone.now() - value).total_seconds()), 0)
    if seconds < 60:
        return "under a minute"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:  # "30 h" says more than "1 d"
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
