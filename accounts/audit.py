"""Who may change an organization's settings, and the audit log of what they changed.

Used by every service that changes organization settings, in ``accounts`` and in
``tickets`` alike; it imports neither app's services, so both can build on it.
"""

from tickets.actors import Actor
from tickets.exceptions import PermissionDenied

from .models import AuditEvent, Membership, Organization


def record_audit_event(
    *, organization: Organization | None, actor: Actor, action: str, target: str = "", changes=None
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=organization,
        actor_user=actor.user,
        actor_label=actor.label[:200],
        action=action,
        target=target[:200],
        changes=changes or {},
    )


def _actor_role(organization: Organization, actor: Actor) -> str | None:
    if actor.user is None:
        return None
    return (
        Membership.objects.filter(organization=organization, user=actor.user)
        .values_list("role", flat=True)
        .first()
    )


def require_manager(organization: Organization, actor: Actor) -> str | None:
    """The actor's role; agents are refused. A system actor (staff, scripts) may act."""
    if actor.is_customer:
        raise PermissionDenied("Customers cannot change organization settings.")
    role = _actor_role(organization, actor)
    if (
        actor.user is not None
        and not actor.user.is_staff
        and role
        not in {
            Membership.Role.OWNER,
            Membership.Role.ADMIN,
        }
    ):
        raise PermissionDenied("Only owners and admins can change organization settings.")
    return role
