"""One attachment policy for every face: which files, how large, how many.

Forms use ``attachment_problem`` to tell a person what is wrong with one file; inbound
mail drops what the policy refuses (the mail itself is never lost); the services refuse
the whole request when anything breaks the policy.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat

from tickets.exceptions import InvalidInput
from tickets.models import Attachment, Message

MAX_ATTACHMENTS = 10

# What may be attached, by file extension. The content type we store and serve is the one
# here, never the one the sender claimed; downloads are always served as attachments, so
# nothing uploaded is ever rendered by the browser on our origin.
ALLOWED_ATTACHMENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".zip": "application/zip",
    ".eml": "message/rfc822",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
}

ALLOWED_EXTENSIONS_TEXT = ", ".join(sorted({extension.lstrip(".") for extension in ALLOWED_ATTACHMENT_TYPES}))


@dataclass(frozen=True)
class UploadedFile:
    """An attachment as received, before it is stored."""

    filename: str
    content_type: str
    content: bytes


def allowed_content_type(filename: str) -> str | None:
    return ALLOWED_ATTACHMENT_TYPES.get(os.path.splitext(filename)[1].lower())


def attachment_problem(filename: str, size: int) -> str | None:
    """Why this file may not be attached, in words for the person who sent it; None if it may."""
    if allowed_content_type(filename) is None:
        return f"{filename}: this type of file cannot be attached. Allowed: {ALLOWED_EXTENSIONS_TEXT}."
    if size > settings.ATTACHMENT_MAX_BYTES:
        return f"{filename} is too large: at most {filesizeformat(settings.ATTACHMENT_MAX_BYTES)} per file."
    if size == 0:
        return f"{filename} is empty."
    return None


def validate_attachments(attachments: Sequence[UploadedFile], *, field_name: str = "attachments") -> None:
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput(field_name, f"Attach at most {MAX_ATTACHMENTS} files.")
    for upload in attachments:
        problem = attachment_problem(upload.filename, len(upload.content))
        if problem:
            raise InvalidInput(field_name, problem)


def store_attachments(message: Message, attachments: Sequence[UploadedFile]) -> list[Attachment]:
    stored = []
    for upload in attachments:
        attachment = Attachment(
            message=message,
            filename=upload.filename[:255],
            content_type=allowed_content_type(upload.filename) or "application/octet-stream",
            size=len(upload.content),
        )
        attachment.file.save(upload.filename, ContentFile(upload.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored
