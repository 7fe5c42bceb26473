"""An agent's in-app notifications (the bell in the dashboard)."""

from collections.abc import Iterable

from django.utils import timezone

from tickets.models import Notification


def mark_notifications_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())
