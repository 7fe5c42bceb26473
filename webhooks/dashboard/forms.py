"""The settings page's form: validation of shape only; the services decide the rest."""

from django import forms

from ..models import EVERY_EVENT, EventType
from ..services.endpoints import DESCRIPTION_MAX_LENGTH
from ..services.transport import URL_MAX_LENGTH

EVENT_CHOICES = [(EVERY_EVENT, "Every event type"), *EventType.choices]


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=URL_MAX_LENGTH,
        help_text="Receives a signed POST for each event (https in production).",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/helpdesk/webhooks"}),
    )
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple, initial=[EVERY_EVENT]
    )
    description = forms.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False)
    include_internal_notes = forms.BooleanField(
        required=False,
        label="Include internal notes",
        help_text="message.created is sent for internal notes too, not only public replies.",
    )
    active = forms.BooleanField(required=False, initial=True, label="Active")


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label="I understand")
