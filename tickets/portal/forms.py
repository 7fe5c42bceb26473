"""Forms of the customer pages. They check shapes and bounds; the services own every write."""

import os

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tickets import limits
from tickets.services import UploadedFile

MAX_ATTACHMENTS = 5

# What a customer may attach, by file extension. The content type we store and serve is
# the one here, never the one the browser claimed; downloads are always served as
# attachments, so nothing uploaded is ever rendered by the browser on our origin.
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
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Zero to MAX_ATTACHMENTS files, each within ATTACHMENT_MAX_BYTES and of an allowed type."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ",".join(sorted(ALLOWED_ATTACHMENT_TYPES)))

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {MAX_ATTACHMENTS} files.")
        uploads = []
        for upload in files:
            super().clean(upload, initial)
            name = os.path.basename(upload.name or "").strip() or "attachment"
            extension = os.path.splitext(name)[1].lower()
            content_type = ALLOWED_ATTACHMENT_TYPES.get(extension)
            if content_type is None:
                raise forms.ValidationError(
                    f"{name}: this type of file cannot be attached. Allowed: "
                    + ", ".join(sorted({ext.lstrip(".") for ext in ALLOWED_ATTACHMENT_TYPES}))
                    + "."
                )
            if upload.size > settings.ATTACHMENT_MAX_BYTES:
                raise forms.ValidationError(
                    f"{name} is too large: at most {filesizeformat(settings.ATTACHMENT_MAX_BYTES)} per file."
                )
            if upload.size == 0:
                raise forms.ValidationError(f"{name} is empty.")
            uploads.append(UploadedFile(filename=name, content_type=content_type, content=upload.read()))
        return uploads


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        min_length=limits.MESSAGE_MIN_LENGTH,
        max_length=limits.MESSAGE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "Write your reply…"}),
        help_text="Markdown is supported.",
    )
    attachments = AttachmentsField(label="Attachments")


class SupportForm(forms.Form):
    email = forms.EmailField(label="Your email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(
        label="Your name",
        required=False,
        max_length=limits.NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    subject = forms.CharField(
        min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH, strip=True
    )
    message = forms.CharField(
        min_length=limits.MESSAGE_MIN_LENGTH,
        max_length=limits.MESSAGE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown is supported.",
    )
    attachments = AttachmentsField(label="Attachments")
    # A field people never see (hidden by portal.css) and bots fill in.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class SignInRequestForm(forms.Form):
    email = forms.EmailField(label="Your email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


def attachment_rules() -> dict:
    """What the pages tell people about attachments, from the same values the form checks."""
    return {
        "max_files": MAX_ATTACHMENTS,
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "extensions": ", ".join(sorted({ext.lstrip(".") for ext in ALLOWED_ATTACHMENT_TYPES})),
    }
