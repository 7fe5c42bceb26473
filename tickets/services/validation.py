"""The domain's checks on values, shared by every service and by faces that pre-check input."""

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from tickets import limits
from tickets.exceptions import InvalidInput


def validate_subject(subject: str, *, field_name: str = "subject") -> str:
    subject = (subject or "").strip()
    if not limits.SUBJECT_MIN_LENGTH <= len(subject) <= limits.SUBJECT_MAX_LENGTH:
        raise InvalidInput(
            field_name,
            f"Must be between {limits.SUBJECT_MIN_LENGTH} and {limits.SUBJECT_MAX_LENGTH} characters.",
        )
    return subject


def validate_body(body: str, *, field_name: str = "message") -> str:
    """The body as stored: trimmed, every line break one LF, counted that way. CR LF (what
    browsers, mail and Windows clients send) and a lone CR would otherwise make the same
    text count longer, and be kept differently, depending on the face it came through."""
    body = limits.normalize_line_breaks(body or "").strip()
    if not limits.MESSAGE_MIN_LENGTH <= len(body) <= limits.MESSAGE_MAX_LENGTH:
        raise InvalidInput(
            field_name,
            f"Must be between {limits.MESSAGE_MIN_LENGTH} and {limits.MESSAGE_MAX_LENGTH} characters.",
        )
    return body


def _depth(value) -> int:
    """How deeply ``value`` nests, walked with a stack so no input can exhaust recursion."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in children)
    return deepest


def validate_metadata(metadata, *, field_name: str = "metadata") -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidInput(field_name, "Must be a JSON object.")
    if len(metadata) > limits.METADATA_MAX_KEYS:
        raise InvalidInput(field_name, f"At most {limits.METADATA_MAX_KEYS} keys.")
    if any(len(key) > limits.METADATA_KEY_MAX_LENGTH for key in metadata):
        raise InvalidInput(field_name, f"Keys are at most {limits.METADATA_KEY_MAX_LENGTH} characters.")
    if _depth(metadata) > limits.METADATA_MAX_DEPTH:
        raise InvalidInput(field_name, f"Nested at most {limits.METADATA_MAX_DEPTH} levels deep.")
    if len(json.dumps(metadata).encode()) > limits.METADATA_MAX_BYTES:
        raise InvalidInput(field_name, f"At most {limits.METADATA_MAX_BYTES} bytes as JSON.")
    return metadata


def normalize_email(email: str, *, field_name: str = "email") -> str:
    email = (email or "").strip().lower()
    if not email:
        return ""
    validate_length(email, limits.EMAIL_MAX_LENGTH, field_name=field_name)
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise InvalidInput(field_name, "Invalid email format.") from error
    return email


def validate_choice(value: str, choices, *, field_name: str) -> str:
    if value not in choices.values:
        raise InvalidInput(field_name, f"Must be one of: {', '.join(choices.values)}.")
    return value


def validate_length(value: str, maximum: int, *, field_name: str) -> str:
    if len(value) > maximum:
        raise InvalidInput(field_name, f"At most {maximum} characters.")
    return value
