"""Idempotency keys: a retried request returns the first result and changes nothing.

A key is namespaced by the credential that sent it (an integrator's API key, an agent, a
customer), so one caller's key can never replay — or block — another caller's request.
"""

import hashlib
import json
from collections.abc import Iterable

from django.db import IntegrityError, transaction

from accounts.audit import record_audit_event
from accounts.models import AuditEvent, Organization
from tickets.actors import Actor
from tickets.exceptions import IdempotencyConflict, InvalidInput
from tickets.models import IdempotencyKey

KEY_MAX_LENGTH = 200
FIELD_NAME = "Idempotency-Key"


def validate_key(key: str) -> str:
    """The caller's key as it will be matched; an over-long one is refused on every face."""
    key = (key or "").strip()
    if len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(FIELD_NAME, f"At most {KEY_MAX_LENGTH} characters.")
    if "\x00" in key:
        raise InvalidInput(FIELD_NAME, "Must not contain NUL characters.")
    return key


def fingerprint(**values) -> str:
    canonical = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(organization: Organization, actor: Actor, key: str, request_fingerprint: str):
    """``(row, seen_before)``: the row for a new key, or the earlier row for a key used before.

    A concurrent retry blocks on the unique index until the first request commits, then
    finds its row: the change happens once.
    """
    scoped_key = f"{actor.credential or actor.kind}:{key}"
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(
                organization=organization, key=scoped_key, fingerprint=request_fingerprint
            )
            return row, False
    except IntegrityError:
        earlier = IdempotencyKey.objects.select_related("ticket", "message").get(
            organization=organization, key=scoped_key
        )
        if earlier.fingerprint != request_fingerprint:
            raise IdempotencyConflict(
                "This Idempotency-Key was already used with a different request."
            ) from None
        return earlier, True


def forget_keys(*, keys: Iterable[IdempotencyKey], actor: Actor) -> int:
    """Forget remembered keys, so their clients may use them again; audited per organization."""
    keys = list(keys)
    with transaction.atomic():
        by_organization: dict[int, list[IdempotencyKey]] = {}
        for row in keys:
            by_organization.setdefault(row.organization_id, []).append(row)
        for rows in by_organization.values():
            record_audit_event(
                organization=rows[0].organization,
                actor=actor,
                action=AuditEvent.Action.IDEMPOTENCY_KEYS_FORGOTTEN,
                target=f"{len(rows)} key{'s' if len(rows) != 1 else ''}",
                changes={"keys": [row.key for row in rows][:100]},
            )
        IdempotencyKey.objects.filter(pk__in=[row.pk for row in keys]).delete()
    return len(keys)
