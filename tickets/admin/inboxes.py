"""Inboxes, tags and saved replies: what an organization sets up once, each written by
its service as the signed-in staff member, with its audit event."""

from django import forms
from django.contrib import admin
from django.utils.text import Truncator

from helpdesk.admin_common import InboxForm, ServiceErrorsMixin, clean_with, count_of, inbox_fields

from .. import services
from ..actors import Actor
from ..models import Inbox, SavedReply, Tag, Ticket

SURVEY_FIELDS = ("satisfaction_survey", "satisfaction_delay_minutes")


class InboxAdminForm(InboxForm):
    def clean_satisfaction_delay_minutes(self):
        return clean_with(services.validate_survey_delay, self.cleaned_data.get("satisfaction_delay_minutes"))


@admin.register(Inbox)
class InboxAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """``create_inbox``, ``update_inbox`` and ``delete_inbox``: an inbox with tickets, a
    working API key restricted to it, or the default while others exist is not deleted.
    Its satisfaction survey is ``set_inbox_survey``'s, as in Settings → Service levels."""

    form = InboxAdminForm
    list_display = (
        "name",
        "prefix",
        "organization",
        "is_default",
        "daily_limit_per_customer",
        "auto_assignment",
        "ticket_count",
        "public_id",
    )
    list_filter = ("is_default", "auto_assignment", "organization")
    list_select_related = ("organization",)
    search_fields = ("name", "prefix", "public_id", "organization__name", "support_email")
    autocomplete_fields = ("organization",)
    readonly_fields = ("public_id", "next_number", "created_at")
    fields = (
        "organization",
        "name",
        "prefix",
        "public_id",
        "support_email",
        "is_default",
        "daily_limit_per_customer",
        "auto_assignment",
        "auto_resolve_pending_days",
        "assign_on_reply",
        "satisfaction_survey",
        "satisfaction_delay_minutes",
        "next_number",
        "created_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(ticket_total=count_of(Ticket, "inbox"))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # References already handed out say "<prefix>-<number>"; keep them meaningful.
            return (*self.readonly_fields, "organization", "prefix")
        return self.readonly_fields

    @admin.display(description="Tickets", ordering="ticket_total")
    def ticket_count(self, inbox):
        return inbox.ticket_total

    def save_model(self, request, obj, form, change):
        actor = Actor.agent(request.user)
        if change:
            inbox = services.update_inbox(inbox=obj, actor=actor, **inbox_fields(form, form.changed_data))
        else:
            inbox = services.create_inbox(
                organization=form.cleaned_data["organization"],
                actor=actor,
                **inbox_fields(form, form.cleaned_data.keys()),
            )
            obj.pk = inbox.pk
        if set(SURVEY_FIELDS) & set(form.changed_data):
            services.set_inbox_survey(
                inbox=inbox,
                ask=form.cleaned_data["satisfaction_survey"],
                delay_minutes=form.cleaned_data["satisfaction_delay_minutes"],
                actor=actor,
            )
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_inbox(inbox=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for inbox in queryset.select_related("organization").order_by("pk"):
            services.delete_inbox(inbox=inbox, actor=Actor.agent(request.user))


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ("organization", "name")

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        organization_id = self.instance.organization_id or getattr(
            self.cleaned_data.get("organization"), "pk", None
        )
        if organization_id is not None:
            clash = Tag.objects.filter(organization_id=organization_id, name=name).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                raise forms.ValidationError("This organization already has a tag with this name.")
        return name


@admin.register(Tag)
class TagAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = TagForm
    list_display = ("name", "organization", "ticket_count", "id", "created_at")
    list_filter = ("organization",)
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    readonly_fields = ("id", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(ticket_total=count_of(Ticket.tags.through, "tag"))

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "organization") if obj is not None else self.readonly_fields

    @admin.display(description="Tickets", ordering="ticket_total")
    def ticket_count(self, tag):
        return tag.ticket_total

    def save_model(self, request, obj, form, change):
        if change:
            services.rename_tag(tag=obj, name=form.cleaned_data["name"], actor=Actor.agent(request.user))
        else:
            tag, _ = services.get_or_create_tag(organization=obj.organization, name=obj.name)
            obj.pk = tag.pk
            obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_tag(tag=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        actor = Actor.agent(request.user)
        for tag in queryset:
            services.delete_tag(tag=tag, actor=actor)


@admin.register(SavedReply)
class SavedReplyAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """Legacy: macros replaced saved replies (the automation app; every saved reply was
    copied into a shared macro by its migration 0002). Shown for reference and deletable
    (``delete_saved_reply``, audited); new ones are macros, so none is added or changed."""

    list_display = ("title", "organization", "excerpt", "created_at")
    list_filter = ("organization",)
    list_select_related = ("organization",)
    search_fields = ("title", "body")
    fields = ("organization", "title", "body")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Body")
    def excerpt(self, saved_reply):
        return Truncator(saved_reply.body).chars(80)

    def delete_model(self, request, obj):
        services.delete_saved_reply(saved_reply=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for saved_reply in queryset.select_related("organization").order_by("pk"):
            services.delete_saved_reply(saved_reply=saved_reply, actor=Actor.agent(request.user))
