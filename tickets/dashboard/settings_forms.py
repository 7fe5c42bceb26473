"""Forms of the settings pages and the profile page: validation only.

Each view hands ``form.cleaned_data`` to a service in ``accounts/services.py`` or
``tickets/services.py``; no form saves anything.
"""

from django import forms

from accounts.models import Membership
from accounts.services import validate_jwt_public_key
from tickets.exceptions import InvalidInput
from tickets.models import Inbox, Mailbox
from tickets.services import INBOX_EDITABLE_FIELDS


class InboxForm(forms.ModelForm):
    class Meta:
        model = Inbox
        fields = INBOX_EDITABLE_FIELDS
        labels = {
            "support_email": "Support address",
            "daily_limit_per_customer": "Daily limit per customer",
            "auto_resolve_pending_days": "Resolve pending tickets after (days)",
            "assign_on_reply": "Assign to the agent who replies",
            "is_default": "Default inbox",
        }
        help_texts = {
            "is_default": "Takes tickets that name no inbox. Only one inbox can be the default.",
            "assign_on_reply": (
                "An agent's public reply on an unassigned ticket makes it theirs, so "
                "“Unassigned” lists only tickets nobody is handling."
            ),
            "auto_assignment": (
                "Least-loaded: new tickets go to the available N1 agent with the fewest open tickets."
            ),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["prefix"].widget.attrs.update({"autocapitalize": "characters", "spellcheck": "false"})
        self.fields["daily_limit_per_customer"].widget.attrs["min"] = 1
        self.fields["auto_resolve_pending_days"].widget.attrs.update({"min": 1, "max": 365})

    def clean_prefix(self):
        return self.cleaned_data["prefix"].strip().upper()

    def validate_unique(self):
        # The organization is not a form field; check the per-organization prefix here.
        prefix = self.cleaned_data.get("prefix")
        if prefix:
            clash = Inbox.objects.filter(organization=self.organization, prefix=prefix)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("prefix", "Another inbox of this organization uses this prefix.")

    def _post_clean(self):
        # Validate fields without constructing the instance: the service applies the change.
        self.validate_unique()


class InviteForm(forms.Form):
    email = forms.EmailField()
    name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.AGENT)
    tier = forms.ChoiceField(choices=Membership.Tier.choices, initial=Membership.Tier.N1)

    def __init__(self, *args, can_grant_owner: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_grant_owner:
            self.fields["role"].choices = [
                choice for choice in Membership.Role.choices if choice[0] != Membership.Role.OWNER
            ]


class MembershipForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)
    tier = forms.ChoiceField(choices=Membership.Tier.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=50, help_text="Where the key will be used, e.g. “Billing backend”.")
    inbox = forms.ModelChoiceField(
        queryset=Inbox.objects.none(),
        required=False,
        empty_label="Every inbox",
        help_text="A restricted key only sees and creates tickets in this inbox.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inbox"].queryset = Inbox.objects.filter(organization=organization)


class JwtPublicKeyForm(forms.Form):
    jwt_public_key = forms.CharField(
        label="RS256 public key (PEM)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "monospace"}),
        help_text="Optional. Paste the RSA public key (at least 2048 bits) your app signs customer "
        "JWTs with, or leave empty to accept HS256 tokens only.",
    )

    def clean_jwt_public_key(self):

        try:
            return validate_jwt_public_key(self.cleaned_data["jwt_public_key"])
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from error


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        required=True, label="I understand that tokens signed with the current secret stop working."
    )


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=150, required=False)


class AgentTokenForm(forms.Form):
    name = forms.CharField(
        label="New token name", max_length=100, help_text="Where you will use it, e.g. “Laptop CLI”."
    )


class AvailabilityForm(forms.Form):
    is_available = forms.BooleanField(required=False)


class MailboxForm(forms.Form):
    """An inbox's IMAP or POP3 mailbox. The password is never shown again: left empty, the
    stored one is kept."""

    protocol = forms.ChoiceField(choices=Mailbox.Protocol.choices)
    host = forms.CharField(max_length=255)
    port = forms.IntegerField(
        min_value=1,
        max_value=65535,
        required=False,
        help_text="Empty for the usual port (993, 143, 995, 110).",
    )
    security = forms.ChoiceField(choices=Mailbox.Security.choices)
    authentication = forms.ChoiceField(choices=Mailbox.Authentication.choices)
    username = forms.CharField(max_length=255)
    password = forms.CharField(
        max_length=4096,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Or the OAuth2 access token. Stored encrypted; leave empty to keep the stored one.",
    )
    folder = forms.CharField(max_length=255, initial="INBOX", help_text="IMAP only.")
    is_active = forms.BooleanField(required=False, initial=True, label="Fetch mail from this mailbox")
