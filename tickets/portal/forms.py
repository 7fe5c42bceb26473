"""Forms of the customer pages. They check shapes and bounds; the services own every write."""

import os

from django import forms
from django.conf import settings

from tickets import limits, services
from tickets.form_fields import MessageBodyField


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Zero or more files within the one attachment policy (``tickets/services/attachments.py``)."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", ",".join(sorted(services.ALLOWED_ATTACHMENT_TYPES)))

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > services.MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {services.MAX_ATTACHMENTS} files.")
        uploads = []
        for upload in files:
            super().clean(upload, initial)
            name = os.path.basename(upload.name or "").strip() or "attachment"
            problem = services.attachment_problem(name, upload.size)
            if problem:
                raise forms.ValidationError(problem)
            uploads.append(
                services.UploadedFile(
                    filename=name, content_type=services.allowed_content_type(name), content=upload.read()
                )
            )
        return uploads


class ReplyForm(forms.Form):
    body = MessageBodyField(
        label="Your reply",
        min_length=limits.MESSAGE_MIN_LENGTH,
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
    message = MessageBodyField(
        min_length=limits.MESSAGE_MIN_LENGTH,
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
        "max_files": services.MAX_ATTACHMENTS,
        "max_bytes": settings.ATTACHMENT_MAX_BYTES,
        "extensions": services.ALLOWED_EXTENSIONS_TEXT,
    }
