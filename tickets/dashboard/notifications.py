"""The bell: unread count polled live, the latest notifications, mark as read."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.middleware import SESSION_KEY as ORGANIZATION_SESSION_KEY
from tickets import services
from tickets.selectors import notifications_for, unread_notification_count

from .common import agent_required, safe_next

PANEL_SIZE = 8


def unread_count(user) -> int:
    return unread_notification_count(user)


def _notifications(request):
    # Every organization the person belongs to now: the bell is the person's, whichever
    # organization they work in, and membership is checked on each request.
    return notifications_for(request.user).select_related("ticket__organization")


@require_GET
@agent_required
def bell(request):
    """The badge alone: what the header polls every few seconds."""
    return render(request, "dashboard/includes/bell.html#badge", {"unread_count": unread_count(request.user)})


@require_GET
@agent_required
def panel(request):
    """The dropdown's list, loaded when the bell is opened."""
    items = list(_notifications(request).order_by("-created_at")[:PANEL_SIZE])
    return render(request, "dashboard/includes/bell.html#panel", {"notifications": items})


@require_GET
@agent_required
def notification_list(request):
    items = list(_notifications(request).order_by("-created_at")[:200])
    return render(request, "dashboard/notifications.html", {"notifications": items})


@require_POST
@agent_required
def mark_read(request):
    """Mark the given notifications (or all) as read."""
    ids = [int(value) for value in request.POST.getlist("notification") if value.isdigit()]
    services.mark_notifications_read(user=request.user, notification_ids=ids or None)
    if request.headers.get("HX-Request"):
        return render(
            request, "dashboard/includes/bell.html#badge", {"unread_count": unread_count(request.user)}
        )
    return redirect(safe_next(request, reverse("dashboard:notifications")))


@require_POST
@agent_required
def open_notification(request, notification_id):
    """Follow a notification to its ticket, marking it read on the way."""
    notification = _notifications(request).filter(pk=notification_id).first()
    if notification is None:
        return redirect("dashboard:notifications")
    services.mark_notifications_read(user=request.user, notification_ids=[notification.pk])
    ticket = notification.ticket
    if ticket is not None:
        if ticket.organization_id != request.organization.pk:
            # A ticket of another of the agent's organizations: work in that one now.
            if request.user.memberships.filter(organization_id=ticket.organization_id).exists():
                request.session[ORGANIZATION_SESSION_KEY] = ticket.organization_id
        return redirect("dashboard:ticket", public_id=notification.ticket.public_id)
    return redirect("dashboard:notifications")
