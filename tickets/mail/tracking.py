"""Delivery tracking: anymail's ``tracking`` signal (``/anymail/<provider>/tracking/``,
authenticated like the inbound webhook by tickets/mail/middleware.py) turns a bounce or a
spam complaint into a marked Delivery and a flagged customer address."""

import logging

from anymail.signals import EventType

from tickets import services

logger = logging.getLogger(__name__)

_TROUBLE = {EventType.BOUNCED: "bounced", EventType.REJECTED: "bounced", EventType.COMPLAINED: "complained"}


def handle_tracking(sender, event, esp_name, **kwargs):
    """anymail.signals.tracking receiver."""
    trouble = _TROUBLE.get(event.event_type)
    if trouble is None:
        return  # Delivered, opened, deferred...: nothing we keep.
    description = " ".join(part for part in (event.reject_reason or "", event.description or "") if part)
    matched = services.record_delivery_trouble(
        provider_message_id=str(event.message_id or ""),
        recipient=event.recipient or "",
        trouble=trouble,
        description=f"{esp_name}: {trouble} {description}".strip(),
    )
    logger.info("Tracking via %s: %s for %s (%s deliveries)", esp_name, trouble, event.recipient, matched)
