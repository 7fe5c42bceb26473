"""Every change to webhook endpoints, events and deliveries.

Like ``tickets/services/``: keyword-only functions, one transaction each; faces (the
API, the dashboard, admin) call these and never save the rows themselves.
"""

from .deliveries import (
    backoff,
    deliver_endpoint,
    disable_endpoint,
    drain,
    due_endpoint_ids,
    enqueue_drains,
    notify_owners_endpoint_disabled,
)
from .endpoints import (
    EDITABLE_FIELDS,
    SECRET_OVERLAP,
    create_endpoint,
    delete_endpoint,
    redeliver,
    rotate_secret,
    send_test,
    update_endpoint,
    validate_events,
)
from .erasure import redact_events
from .feed import prune_events
from .recording import NewEvent, actor_representation, record_events

__all__ = [
    "EDITABLE_FIELDS",
    "SECRET_OVERLAP",
    "NewEvent",
    "actor_representation",
    "backoff",
    "create_endpoint",
    "delete_endpoint",
    "deliver_endpoint",
    "disable_endpoint",
    "drain",
    "due_endpoint_ids",
    "enqueue_drains",
    "notify_owners_endpoint_disabled",
    "prune_events",
    "redact_events",
    "record_events",
    "redeliver",
    "rotate_secret",
    "send_test",
    "update_endpoint",
    "validate_events",
]
