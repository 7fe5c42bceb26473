"""Tickets: the add and change forms, the thread inline, and the bulk actions, all of
which call the services as the signed-in staff member."""

import json

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from accounts.models import Membership
from helpdesk.admin_common import BOTH_LOCATIONS, ServiceErrorsMixin, clean_with, parse_tag_names

from .. import limits, services
from ..actors import Actor
from ..exceptions import HelpdeskError, InvalidInput
from ..models import Message, Ticket, TicketEvent
from ..services.custom_fields import validate_values
from .relations import TicketLinkInline, TicketRelationsActions

UPDATABLE_FIELDS = ("subject", "priority", "category", "type", "metadata", "reply_address")


class TicketFormBase(forms.ModelForm):
    tag_names = forms.CharField(
        label="Tags",
        required=False,
        help_text="Comma-separated; new names become tags of the organization.",
    )

    def clean_subject(self):
        return clean_with(services.validate_subject, self.cleaned_data.get("subject", ""))

    def clean_metadata(self):
        return clean_with(services.validate_metadata, self.cleaned_data.get("metadata"))

    def clean_category(self):
        category = self.cleaned_data.get("category", "")
        if len(category) > limits.CATEGORY_MAX_LENGTH:
            self.add_error("category", f"At most {limits.CATEGORY_MAX_LENGTH} characters.")
        return category

    def clean_tag_names(self):
        names = parse_tag_names(self.cleaned_data.get("tag_names", ""))
        if len(names) > limits.TAGS_PER_TICKET:
            raise forms.ValidationError(f"At most {limits.TAGS_PER_TICKET} tags.")
        if any(len(name) > limits.TAG_NAME_MAX_LENGTH for name in names):
            raise forms.ValidationError(f"A tag is at most {limits.TAG_NAME_MAX_LENGTH} characters.")
        return names

    def check_assignee(self, organization_id):
        assignee = self.cleaned_data.get("assignee")
        if assignee is None or organization_id is None:
            return
        is_member = Membership.objects.filter(
            organization_id=organization_id, user=assignee, user__is_active=True
        ).exists()
        if not is_member:
            self.add_error("assignee", "Not an active agent of this ticket's organization.")


class TicketAddForm(TicketFormBase):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="The customer's first message (Markdown).",
    )

    class Meta:
        model = Ticket
        fields = (
            "inbox",
            "customer",
            "subject",
            "priority",
            "category",
            "type",
            "channel",
            "assignee",
            "metadata",
            "reply_address",
            "custom_fields",
        )
        help_texts = {"custom_fields": 'By key, e.g. {"order_id": "A-1042"}: the inbox\'s fields.'}

    def clean_message(self):
        return clean_with(services.validate_body, self.cleaned_data.get("message", ""))

    def clean(self):
        cleaned = super().clean()
        inbox, customer = cleaned.get("inbox"), cleaned.get("customer")
        if inbox is not None and customer is not None and customer.organization_id != inbox.organization_id:
            self.add_error("customer", "This customer belongs to another organization than the inbox.")
        self.check_assignee(inbox.organization_id if inbox else None)
        if inbox is not None and cleaned.get("custom_fields") is not None:
            # Checked here as the API checks them, so a bad value is an error on the form.
            try:
                validate_values(
                    cleaned["custom_fields"], organization_id=inbox.organization_id, inbox_id=inbox.pk
                )
            except InvalidInput as error:
                self.add_error("custom_fields", f"{error.field}: {error.message}")
        return cleaned


class TicketChangeForm(TicketFormBase):
    class Meta:
        model = Ticket
        fields = UPDATABLE_FIELDS + ("status", "assignee", "custom_fields")
        help_texts = {
            "custom_fields": 'By key, e.g. {"order_id": "A-1042"}; a key left out is cleared.',
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ticket = self.instance
        if "status" in self.fields:
            # Offer only the moves the state machine allows from here.
            allowed = services.ALLOWED_TRANSITIONS[ticket.status]
            self.fields["status"].choices = [
                (value, label)
                for value, label in Ticket.Status.choices
                if value == ticket.status or value in allowed
            ]
        if "tag_names" in self.fields:
            self.fields["tag_names"].initial = ", ".join(tag.name for tag in ticket.tags.all())
            # The page carries the tags it showed, so a save changes only what was edited
            # here: a tag someone else added meanwhile stays.
            self.fields["tag_names"].show_hidden_initial = True
        if "custom_fields" in self.fields:
            self.fields["custom_fields"].show_hidden_initial = True

    def clean(self):
        cleaned = super().clean()
        self.check_assignee(self.instance.organization_id)
        return cleaned

    def _shown_custom_fields(self) -> dict:
        try:
            shown = json.loads(self.data.get(self.add_initial_prefix("custom_fields"), ""))
        except ValueError:
            shown = None
        return shown if isinstance(shown, dict) else (self.instance.custom_fields or {})

    def clean_custom_fields(self):
        """The edit against the ticket's values, checked as the API checks them."""
        wanted = self.cleaned_data.get("custom_fields") or {}
        if not isinstance(wanted, dict):
            raise forms.ValidationError("A JSON object of values by key.")
        # Against what the page showed, as for the tags: a value someone else set
        # meanwhile stays.
        shown = self._shown_custom_fields()
        changes = {key: value for key, value in wanted.items() if shown.get(key) != value}
        changes.update({key: None for key in shown if key not in wanted})
        try:
            self.custom_field_changes = validate_values(
                changes, organization_id=self.instance.organization_id, inbox_id=self.instance.inbox_id
            )
        except InvalidInput as error:
            raise forms.ValidationError(f"{error.field}: {error.message}") from None
        return wanted

    @property
    def tag_changes(self) -> dict:
        """``add_tags``/``remove_tags`` for update_ticket: the edit against what was shown."""
        if "tag_names" not in self.cleaned_data or "tag_names" not in self.changed_data:
            return {}
        shown = set(parse_tag_names(self.data.get(self.add_initial_prefix("tag_names"), "")))
        wanted = set(self.cleaned_data["tag_names"])
        changes = {}
        if wanted - shown:
            changes["add_tags"] = sorted(wanted - shown)
        if shown - wanted:
            changes["remove_tags"] = sorted(shown - wanted)
        return changes


class MessageInlineForm(forms.ModelForm):
    class Meta:
        model = Message
        fields = ("kind", "body")

    def clean_body(self):
        return clean_with(services.validate_body, self.cleaned_data.get("body", ""))


class MessageInline(admin.StackedInline):
    """The thread. Existing messages are history (read-only); a new one is added through
    ``services.add_message`` as the signed-in staff member."""

    model = Message
    form = MessageInlineForm
    extra = 1
    can_delete = False
    fields = (("author", "written_at", "kind", "attachment_links"), "body")
    readonly_fields = ("author", "written_at", "attachment_links")
    verbose_name = "message"
    verbose_name_plural = "thread (add a reply or an internal note below)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("author_user", "author_customer", "ticket")
            .prefetch_related("attachments")
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return obj is not None and super().has_add_permission(request, obj)

    @admin.display(description="Author")
    def author(self, message):
        if message.pk is None:
            return "you, as staff"
        kind = message.get_author_type_display()
        return f"{message.author_name} ({kind}, via {message.get_channel_display()})"

    @admin.display(description="Written")
    def written_at(self, message):
        if message.pk is None:
            return "on save"
        return date_format(timezone.localtime(message.created_at), "DATETIME_FORMAT")

    @admin.display(description="Attachments")
    def attachment_links(self, message):
        if message.pk is None:
            return ""
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a> ({} bytes)',
                (
                    (reverse("admin:tickets_attachment_download", args=[a.pk]), a.filename, a.size)
                    for a in message.attachments.all()
                ),
            )
            or "—"
        )


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "action", "field", "before", "after", "actor_label")
    readonly_fields = fields
    verbose_name_plural = "events (audit trail)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(TicketRelationsActions, ServiceErrorsMixin, admin.ModelAdmin):
    form = TicketChangeForm
    add_form = TicketAddForm
    list_display = (
        "reference",
        "short_subject",
        "status",
        "priority",
        "customer",
        "assignee",
        "inbox",
        "organization",
        "tag_list",
        "created_at",
        "updated_at",
    )
    list_display_links = ("reference", "short_subject")
    list_filter = ("status", "priority", "channel", "created_at", "organization", "inbox")
    list_select_related = ("organization", "inbox", "customer", "assignee")
    search_fields = (
        "reference",
        "subject",
        "public_id",
        "customer__email",
        "customer__external_id",
        "customer__name",
    )
    date_hierarchy = "created_at"
    autocomplete_fields = ("inbox", "customer", "assignee")
    inlines = (MessageInline, TicketLinkInline, TicketEventInline)
    change_form_readonly = (
        "reference",
        "public_id",
        "organization",
        "inbox",
        "customer",
        "channel",
        "private_link",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
    )
    actions = (
        "resolve",
        "close",
        "reopen",
        "assign_to_me",
        "unassign",
        "set_priority_low",
        "set_priority_normal",
        "set_priority_high",
        "set_priority_urgent",
        "set_priority_critical",
        "rotate_private_link",
        *TicketRelationsActions.relation_actions,
    )

    def has_delete_permission(self, request, obj=None):
        # No service deletes tickets (their history, references and events go with them):
        # staff close them instead. Django's delete page and "delete selected" are not offered.
        return False

    # Reading ------------------------------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": ("inbox", "customer", "subject", "message")}),
                (
                    "Details",
                    {
                        "fields": (
                            "priority",
                            "category",
                            "type",
                            "channel",
                            "assignee",
                            "tag_names",
                            "metadata",
                            "reply_address",
                            "custom_fields",
                        )
                    },
                ),
            )
        return (
            (None, {"fields": ("reference", "subject", "status", "priority", "assignee", "tag_names")}),
            ("Details", {"fields": ("category", "type", "metadata", "reply_address", "custom_fields")}),
            (
                "Where it comes from",
                {"fields": ("public_id", "organization", "inbox", "customer", "channel", "private_link")},
            ),
            (
                "Dates",
                {"fields": ("created_at", "updated_at", "first_response_at", "resolved_at", "closed_at")},
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        return self.change_form_readonly if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_changeform_initial_data(self, request):
        return {"channel": Ticket.Channel.AGENT, **super().get_changeform_initial_data(request)}

    @admin.display(description="Subject", ordering="subject")
    def short_subject(self, ticket):
        return Truncator(ticket.subject).chars(60)

    @admin.display(description="Tags")
    def tag_list(self, ticket):
        return ", ".join(tag.name for tag in ticket.tags.all())

    @admin.display(description="Private link")
    def private_link(self, ticket):
        return format_html('<a href="{0}" target="_blank" rel="noopener">{0}</a>', ticket.private_url)

    # Writing: everything through the services ---------------------------------------------

    def save_model(self, request, obj, form, change):
        actor = Actor.agent(request.user)
        data = form.cleaned_data
        if not change:
            ticket, _ = services.create_ticket(
                inbox=data["inbox"],
                customer=data["customer"],
                subject=data["subject"],
                message=data["message"],
                actor=actor,
                priority=data["priority"],
                category=data.get("category", ""),
                type=data.get("type", ""),
                channel=data["channel"],
                metadata=data.get("metadata") or {},
                custom_fields=data.get("custom_fields") or {},
                tags=data.get("tag_names", []),
                reply_address=data.get("reply_address", ""),
                # An assignee chosen here replaces the inbox's auto-assignment.
                auto_assign=False if data.get("assignee") is not None else None,
            )
            if data.get("assignee") is not None:
                services.assign(ticket=ticket, assignee=data["assignee"], actor=actor)
            obj.pk = ticket.pk
            obj.refresh_from_db()
            return

        # A change is applied in save_related, after the new messages are in ("reply and
        # resolve"), as one update_ticket call.

    def save_related(self, request, form, formsets, change):
        # Tags go through update_ticket below; form.save_m2m() is never called.
        actor = Actor.agent(request.user)
        ticket = form.instance
        changes = {}
        if change:
            data = form.cleaned_data
            changes = {
                name: data[name]
                for name in (*UPDATABLE_FIELDS, "assignee", "status")
                if name in form.changed_data
            }
            changes.update(form.tag_changes)
            if getattr(form, "custom_field_changes", None):
                changes["custom_fields"] = form.custom_field_changes
        new_messages = []
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is not Message:
                continue
            for inline_form in formset.extra_forms:
                if inline_form.has_changed() and inline_form.cleaned_data.get("body"):
                    new_messages.append((formset, inline_form))
        for index, (formset, inline_form) in enumerate(new_messages):
            # The last new message carries the form's changes: "reply and resolve" is one
            # call, as from the dashboard's composer.
            last = index == len(new_messages) - 1
            message, _ = services.add_message(
                ticket=ticket,
                body=inline_form.cleaned_data["body"],
                kind=inline_form.cleaned_data["kind"],
                channel=Ticket.Channel.WEB,
                actor=actor,
                changes=changes if last else None,
            )
            formset.new_objects.append(message)
        if changes and not new_messages:
            services.update_ticket(ticket=ticket, actor=actor, **changes)
        ticket.refresh_from_db()

    # Actions ------------------------------------------------------------------------------

    def _apply(self, request, queryset, done: str, operation) -> None:
        actor = Actor.agent(request.user)
        succeeded, refused = [], []
        for ticket in queryset.order_by("pk"):
            try:
                operation(ticket, actor)
            except HelpdeskError as error:
                refused.append(f"{ticket.reference}: {error.message}")
            else:
                succeeded.append(ticket.reference)
        if succeeded:
            self.message_user(request, f"{done}: {', '.join(succeeded)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Refused — " + "; ".join(refused), messages.WARNING)

    def _status_action(self, request, queryset, status, done):
        self._apply(
            request,
            queryset,
            done,
            lambda ticket, actor: services.change_status(ticket=ticket, status=status, actor=actor),
        )

    @admin.action(description="Resolve", location=BOTH_LOCATIONS, permissions=["change"])
    def resolve(self, request, queryset):
        self._status_action(request, queryset, Ticket.Status.RESOLVED, "Resolved")

    @admin.action(description="Close", location=BOTH_LOCATIONS, permissions=["change"])
    def close(self, request, queryset):
        self._status_action(request, queryset, Ticket.Status.CLOSED, "Closed")

    @admin.action(description="Reopen", location=BOTH_LOCATIONS, permissions=["change"])
    def reopen(self, request, queryset):
        self._status_action(request, queryset, Ticket.Status.OPEN, "Reopened")

    @admin.action(description="Assign to me", location=BOTH_LOCATIONS, permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._apply(
            request,
            queryset,
            "Assigned to you",
            lambda ticket, actor: services.assign(ticket=ticket, assignee=request.user, actor=actor),
        )

    @admin.action(description="Unassign", location=BOTH_LOCATIONS, permissions=["change"])
    def unassign(self, request, queryset):
        self._apply(
            request,
            queryset,
            "Unassigned",
            lambda ticket, actor: services.assign(ticket=ticket, assignee=None, actor=actor),
        )

    def _priority_action(self, request, queryset, priority):
        label = Ticket.Priority(priority).label.lower()
        self._apply(
            request,
            queryset,
            f"Priority set to {label}",
            lambda ticket, actor: services.update_ticket(ticket=ticket, priority=priority, actor=actor),
        )

    @admin.action(description="Set priority: low", location=BOTH_LOCATIONS, permissions=["change"])
    def set_priority_low(self, request, queryset):
        self._priority_action(request, queryset, Ticket.Priority.LOW)

    @admin.action(description="Set priority: normal", location=BOTH_LOCATIONS, permissions=["change"])
    def set_priority_normal(self, request, queryset):
        self._priority_action(request, queryset, Ticket.Priority.NORMAL)

    @admin.action(description="Set priority: high", location=BOTH_LOCATIONS, permissions=["change"])
    def set_priority_high(self, request, queryset):
        self._priority_action(request, queryset, Ticket.Priority.HIGH)

    @admin.action(description="Set priority: urgent", location=BOTH_LOCATIONS, permissions=["change"])
    def set_priority_urgent(self, request, queryset):
        self._priority_action(request, queryset, Ticket.Priority.URGENT)

    @admin.action(description="Set priority: critical", location=BOTH_LOCATIONS, permissions=["change"])
    def set_priority_critical(self, request, queryset):
        self._priority_action(request, queryset, Ticket.Priority.CRITICAL)

    @admin.action(
        description="Rotate the private link (the old link stops working)",
        location=BOTH_LOCATIONS,
        permissions=["change"],
    )
    def rotate_private_link(self, request, queryset):
        self._apply(
            request,
            queryset,
            "New private link for",
            lambda ticket, actor: services.rotate_access_key(ticket=ticket, actor=actor),
        )
