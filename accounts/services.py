"""Changes to who may act: memberships, keys, tokens. Views call these, never ``.save()``."""

from django.db import transaction

from .models import Membership

# Availability (the agent dashboard) ---------------------------------------------------


def set_availability(*, membership: Membership, is_available: bool) -> Membership:
    """Say whether this agent takes auto-assigned tickets in this organization."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("organization").get(pk=membership.pk)
        if locked.is_available != is_available:
            locked.is_available = is_available
            locked.save(update_fields=["is_available"])
        return locked
