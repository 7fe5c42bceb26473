"""Settings → Service levels: forms that check the shape; ``sla/services.py`` decides the rest.

Weekly hours are typed one day a line (``mon 09:00-12:00, 13:00-17:00``), holidays one
date a line, customer metadata one ``key = value`` a line.
"""

from django import forms

from tickets.models import Inbox, Ticket

from ..calendar import DAYS
from ..models import BusinessHours, SlaPolicy


def weekly_text(weekly: list[dict]) -> str:
    lines = []
    for day in DAYS:
        spans = [f"{entry['start']}-{entry['end']}" for entry in weekly if entry["day"] == day]
        if spans:
            lines.append(f"{day} {', '.join(spans)}")
    return "\n".join(lines)


def parse_weekly(text: str) -> list[dict]:
    weekly = []
    for number, line in enumerate(filter(None, (line.strip() for line in text.splitlines())), start=1):
        day, _, spans = line.partition(" ")
        day = day.strip().lower()[:3]
        if not spans.strip():
            raise forms.ValidationError(f"Line {number}: write a day and its hours, e.g. “mon 09:00-17:00”.")
        for span in spans.split(","):
            start, _, end = span.strip().partition("-")
            if not end:
                raise forms.ValidationError(f"Line {number}: hours are “start-end”, e.g. 09:00-17:00.")
            weekly.append({"day": day, "start": start.strip(), "end": end.strip()})
    return weekly


class BusinessHoursForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(
        max_length=64, initial="UTC", help_text="e.g. Europe/Berlin, America/New_York."
    )
    weekly = forms.CharField(
        label="Weekly hours",
        widget=forms.Textarea(attrs={"rows": 7, "placeholder": "mon 09:00-17:00\ntue 09:00-17:00"}),
        initial="mon 09:00-17:00\ntue 09:00-17:00\nwed 09:00-17:00\nthu 09:00-17:00\nfri 09:00-17:00",
        help_text="One day a line (mon … sun); intervals with commas; 22:00-06:00 runs over midnight.",
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-12-25"}),
        help_text="One date a line (YYYY-MM-DD): no working time on these days.",
    )
    inboxes = forms.ModelMultipleChoiceField(
        queryset=Inbox.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Inboxes whose SLA targets count in these hours (others work 24/7 or use their own).",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inboxes"].queryset = Inbox.objects.filter(organization=organization).order_by("name")

    def clean_weekly(self):
        return parse_weekly(self.cleaned_data["weekly"])

    def clean_holidays(self):
        return [line.strip() for line in self.cleaned_data["holidays"].splitlines() if line.strip()]

    @classmethod
    def initial_for(cls, hours: BusinessHours) -> dict:
        return {
            "name": hours.name,
            "time_zone": hours.time_zone,
            "weekly": weekly_text(hours.weekly),
            "holidays": "\n".join(hours.holidays),
            "inboxes": list(hours.inboxes.all()),
        }


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(min_value=0, max_value=10_000, required=False, help_text="Lower first.")
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
    business_hours = forms.ModelChoiceField(
        queryset=BusinessHours.objects.none(), required=False, empty_label="The inbox's (24/7 if none)"
    )
    time_basis = forms.ChoiceField(choices=SlaPolicy.TimeBasis.choices, label="Count in")
    inboxes = forms.ModelMultipleChoiceField(
        queryset=Inbox.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Inbox is"
    )
    priorities = forms.MultipleChoiceField(
        choices=Ticket.Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Priority is",
    )
    channels = forms.MultipleChoiceField(
        choices=Ticket.Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Channel is",
    )
    tags = forms.CharField(
        required=False, label="Has a tag", help_text="Tag names, comma-separated (any of them)."
    )
    customer_metadata = forms.CharField(
        required=False,
        label="Customer metadata",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "plan = pro"}),
        help_text="One “key = value” a line; every one must hold.",
    )
    first_reply_minutes = forms.IntegerField(min_value=1, required=False, label="First reply (minutes)")
    next_reply_minutes = forms.IntegerField(
        min_value=1, required=False, label="Next reply (minutes)", help_text="After each customer message."
    )
    resolution_minutes = forms.IntegerField(min_value=1, required=False, label="Resolution (minutes)")
    warning_percent = forms.IntegerField(
        min_value=1, max_value=99, required=False, label="Warn at (% of the target)"
    )
    warning_minutes_before = forms.IntegerField(min_value=1, required=False, label="Or warn (minutes before)")
    raise_priority_to = forms.ChoiceField(
        choices=[("", "Leave it"), *Ticket.Priority.choices],
        required=False,
        label="On breach, raise priority to",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_hours"].queryset = BusinessHours.objects.filter(organization=organization)
        self.fields["inboxes"].queryset = Inbox.objects.filter(organization=organization).order_by("name")

    def clean_customer_metadata(self):
        metadata = {}
        for line in self.cleaned_data["customer_metadata"].splitlines():
            if not line.strip():
                continue
            key, separator, value = line.partition("=")
            if not separator or not key.strip():
                raise forms.ValidationError("Write one “key = value” a line.")
            metadata[key.strip()] = value.strip()
        return metadata

    def service_fields(self) -> dict:
        data = self.cleaned_data
        conditions = {
            "inbox": [inbox.public_id for inbox in data["inboxes"]],
            "priority": data["priorities"],
            "channel": data["channels"],
            "tag": [name.strip() for name in data["tags"].split(",") if name.strip()],
            "customer_metadata": data["customer_metadata"],
        }
        fields = {
            "name": data["name"],
            "is_active": data["is_active"],
            "business_hours": data["business_hours"],
            "time_basis": data["time_basis"],
            "conditions": {key: value for key, value in conditions.items() if value},
            "targets": {
                key: data[key] for key in ("first_reply_minutes", "next_reply_minutes", "resolution_minutes")
            },
            "escalation": {
                "warning_percent": data["warning_percent"],
                "warning_minutes_before": data["warning_minutes_before"],
                "raise_priority_to": data["raise_priority_to"] or None,
            },
        }
        if data.get("position") is not None:
            fields["position"] = data["position"]
        return fields

    @classmethod
    def initial_for(cls, policy: SlaPolicy) -> dict:
        conditions = policy.conditions
        return {
            "name": policy.name,
            "position": policy.position,
            "is_active": policy.is_active,
            "business_hours": policy.business_hours_id,
            "time_basis": policy.time_basis,
            "inboxes": list(
                Inbox.objects.filter(
                    organization=policy.organization_id, public_id__in=conditions.get("inbox", [])
                )
            ),
            "priorities": conditions.get("priority", []),
            "channels": conditions.get("channel", []),
            "tags": ", ".join(conditions.get("tag", [])),
            "customer_metadata": "\n".join(
                f"{k} = {v}" for k, v in conditions.get("customer_metadata", {}).items()
            ),
            "first_reply_minutes": policy.first_reply_minutes,
            "next_reply_minutes": policy.next_reply_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "warning_percent": policy.warning_percent,
            "warning_minutes_before": policy.warning_minutes_before,
            "raise_priority_to": policy.raise_priority_to,
        }


class SurveyForm(forms.Form):
    satisfaction_survey = forms.BooleanField(required=False, label="Ask for a rating when resolved")
    satisfaction_delay_minutes = forms.IntegerField(min_value=0, label="After (minutes)")
