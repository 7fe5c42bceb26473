"""Every change to tickets, their messages, customers, tags, inboxes and saved replies.

One module per aggregate, in the spirit of Zulip's ``zerver/actions/``: each function is
keyword-only, runs in one transaction, takes row locks where a count or a sequence must
be exact, records a TicketEvent (or an AuditEvent) for what it changed, and publishes
domain events (``tickets/events.py``) that subscribers hear after commit. Faces import
this package and call its functions; they never save these rows themselves.
"""

from .agent_notifications import (
    follow_ticket,
    mark_notifications_read,
    mentioned_agents,
    notification_preferences,
    preferences_of,
    set_notification_preferences,
    unfollow_ticket,
)
from .attachments import (
    ALLOWED_ATTACHMENT_TYPES,
    ALLOWED_EXTENSIONS_TEXT,
    MAX_ATTACHMENTS,
    UploadedFile,
    allowed_content_type,
    attachment_problem,
    validate_attachments,
)
from .custom_fields import create_custom_field, delete_custom_field, update_custom_field
from .customers import (
    CustomerData,
    customer_by_external_id,
    customer_for_unproven_sender,
    is_provisional,
    refuse_erased,
    update_customer,
    upsert_customer,
)
from .data_rights import (
    apply_all_retention,
    apply_retention,
    erase_customer,
    may_manage_customer_data,
    tickets_due_for_retention,
)
from .deliveries import record_delivery_trouble
from .drafts import discard_draft, draft_for, save_draft
from .exports import export_customer, export_filename
from .idempotency import forget_keys as forget_idempotency_keys
from .idempotency import validate_key as validate_idempotency_key
from .inboxes import (
    INBOX_EDITABLE_FIELDS,
    address_verification_token,
    create_inbox,
    delete_inbox,
    inbox_for_verification,
    inboxes_changed,
    request_address_verification,
    set_inbox_business_hours_id,
    set_inbox_survey,
    update_inbox,
    validate_survey_delay,
    verify_support_address,
)
from .mailboxes import save_mailbox
from .messages import add_message
from .participants import MAX_PARTICIPANTS, add_participant, remove_participant
from .relations import link_tickets, merge_tickets, recount_who_spoke_last, split_ticket, unlink_tickets
from .saved_replies import create_saved_reply, delete_saved_reply, update_saved_reply
from .tags import delete_tag, get_or_create_tag, rename_tag, validate_tag_name
from .tickets import (
    ALLOWED_TRANSITIONS,
    CUSTOMER_TRANSITIONS,
    assign,
    change_status,
    confirm_sender,
    create_ticket,
    pick_auto_assignee,
    resolve_due_pending_tickets,
    rotate_access_key,
    seconds_until_next_month,
    update_ticket,
)
from .validation import normalize_email, validate_body, validate_metadata, validate_subject

__all__ = [
    "ALLOWED_ATTACHMENT_TYPES",
    "ALLOWED_EXTENSIONS_TEXT",
    "ALLOWED_TRANSITIONS",
    "CUSTOMER_TRANSITIONS",
    "INBOX_EDITABLE_FIELDS",
    "MAX_ATTACHMENTS",
    "MAX_PARTICIPANTS",
    "CustomerData",
    "UploadedFile",
    "add_message",
    "add_participant",
    "apply_all_retention",
    "apply_retention",
    "address_verification_token",
    "allowed_content_type",
    "assign",
    "attachment_problem",
    "change_status",
    "confirm_sender",
    "create_custom_field",
    "create_inbox",
    "create_saved_reply",
    "create_ticket",
    "customer_by_external_id",
    "customer_for_unproven_sender",
    "delete_custom_field",
    "delete_inbox",
    "delete_saved_reply",
    "delete_tag",
    "erase_customer",
    "export_customer",
    "export_filename",
    "discard_draft",
    "draft_for",
    "forget_idempotency_keys",
    "inbox_for_verification",
    "inboxes_changed",
    "is_provisional",
    "refuse_erased",
    "get_or_create_tag",
    "link_tickets",
    "mark_notifications_read",
    "merge_tickets",
    "recount_who_spoke_last",
    "may_manage_customer_data",
    "follow_ticket",
    "unfollow_ticket",
    "mentioned_agents",
    "notification_preferences",
    "preferences_of",
    "set_notification_preferences",
    "normalize_email",
    "pick_auto_assignee",
    "rename_tag",
    "request_address_verification",
    "resolve_due_pending_tickets",
    "record_delivery_trouble",
    "remove_participant",
    "rotate_access_key",
    "save_draft",
    "split_ticket",
    "save_mailbox",
    "set_inbox_business_hours_id",
    "set_inbox_survey",
    "seconds_until_next_month",
    "tickets_due_for_retention",
    "unlink_tickets",
    "update_custom_field",
    "update_customer",
    "update_inbox",
    "update_saved_reply",
    "update_ticket",
    "upsert_customer",
    "verify_support_address",
    "validate_attachments",
    "validate_body",
    "validate_idempotency_key",
    "validate_metadata",
    "validate_subject",
    "validate_survey_delay",
    "validate_tag_name",
]
