"""Input shapes of the dashboard's forms; the rules themselves live in the services."""

from django import forms

from tickets import limits, services
from tickets.form_fields import MessageBodyField
from tickets.models import Message, Ticket


class WithAttachments:
    """A form whose message may carry files (``<input type="file" name="attachments">``),
    checked against the same limits as the API's."""

    def __init__(self, *args, files_list=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.files_list = list(files_list)

    def clean(self):
        cleaned = super().clean()
        if len(self.files_list) > services.MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {services.MAX_ATTACHMENTS} files.")
        for upload in self.files_list:
            problem = services.attachment_problem(upload.name or "attachment", upload.size)
            if problem:
                raise forms.ValidationError(problem)
        return cleaned


class MessageForm(WithAttachments, forms.Form):
    kind = forms.ChoiceField(choices=Message.Kind.choices, initial=Message.Kind.REPLY)
    body = MessageBodyField(strip=True)
    status_after = forms.ChoiceField(
        choices=[("", "Keep status"), *Ticket.Status.choices], required=False, label="and set status"
    )
    # One token per rendered composer: the idempotency key of its send (a double submit
    # sends once).
    submission = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class PropertiesForm(forms.Form):
    """The ticket sidebar: every field optional, only what changed is applied."""

    status = forms.ChoiceField(choices=Ticket.Status.choices, required=False)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices, required=False)
    assignee = forms.CharField(required=False)
    category = forms.CharField(max_length=limits.CATEGORY_MAX_LENGTH, required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated.")

    tags_was = forms.CharField(required=False, widget=forms.HiddenInput)

    @staticmethod
    def _names(raw: str) -> list[str]:
        names = []
        for name in raw.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
        return names

    def clean_tags(self):
        return self._names(self.cleaned_data.get("tags", ""))

    def clean_tags_was(self):
        return self._names(self.cleaned_data.get("tags_was", ""))


class NewTicketForm(WithAttachments, forms.Form):
    """A ticket an agent opens for a customer who called or walked in: what they asked is
    the first message, written down by the agent."""

    inbox = forms.ChoiceField()
    email = forms.EmailField(label="Customer email")
    name = forms.CharField(label="Customer name", required=False, max_length=limits.NAME_MAX_LENGTH)
    subject = forms.CharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    message = MessageBodyField(
        label="What they asked",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown. The customer gets the usual confirmation with the private link.",
    )
    priority = forms.ChoiceField(choices=Ticket.Priority.choices, initial=Ticket.Priority.NORMAL)
    # One token per rendered form: the create's idempotency key, so a second press opens
    # one ticket and sends one confirmation.
    submission = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, inboxes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inbox"].choices = [(inbox.public_id, inbox.name) for inbox in inboxes]


class NewConversationForm(WithAttachments, forms.Form):
    """An email the agent writes first: it opens a ticket and goes to the customer from
    the inbox, whose reply then lands on that ticket."""

    email = forms.EmailField(label="To (customer email)")
    name = forms.CharField(label="Customer name", required=False, max_length=limits.NAME_MAX_LENGTH)
    inbox = forms.ChoiceField(help_text="The email is sent from this inbox, and the answer comes back to it.")
    subject = forms.CharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    message = MessageBodyField(
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown. The ticket then waits on the customer (pending) until they answer.",
    )
    # One token per rendered form: the create's idempotency key, so a second press sends
    # one email and opens one ticket.
    submission = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, inboxes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inbox"].choices = [(inbox.public_id, inbox.name) for inbox in inboxes]
