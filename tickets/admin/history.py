"""History: messages, attachments, events, idempotency keys, deliveries and notifications,
shown to staff and written by the services only."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from helpdesk.admin_common import ReadOnlyAdmin

from .. import services
from ..actors import Actor
from ..downloads import attachment_download
from ..exceptions import HelpdeskError
from ..models import (
    Attachment,
    Delivery,
    Draft,
    IdempotencyKey,
    Message,
    Notification,
    NotificationPreference,
    TicketEvent,
    TicketFollower,
)
from ..tasks import retry_deliveries


def download_link(attachment: Attachment) -> str:
    """A link to the file through admin's own download view (never the storage's URL)."""
    url = reverse("admin:tickets_attachment_download", args=[attachment.pk])
    return format_html('<a href="{}">{}</a>', url, attachment.filename)


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    can_delete = False
    fields = ("filename", "content_type", "size", "download", "created_at")
    readonly_fields = fields

    @admin.display(description="File")
    def download(self, attachment):
        return download_link(attachment) if attachment.pk else ""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("ticket_reference", "kind", "author_type", "author", "channel", "excerpt", "created_at")
    list_filter = ("kind", "author_type", "channel", "created_at")
    list_select_related = ("ticket", "author_user", "author_customer")
    search_fields = ("ticket__reference", "public_id", "email_message_id", "body")
    date_hierarchy = "created_at"
    fields = (
        "public_id",
        "ticket",
        "kind",
        "author_type",
        "author_user",
        "author_customer",
        "channel",
        "body",
        "email_message_id",
        "raw_email",
        "created_at",
    )
    inlines = (AttachmentInline,)
    actions = ("split_into_new_ticket",)

    @admin.action(description="Split into a new ticket (each selected message)")
    def split_into_new_ticket(self, request, queryset):
        actor = Actor.agent(request.user)
        opened, refused = [], []
        for message in queryset.select_related("ticket").order_by("created_at", "pk"):
            try:
                new = services.split_ticket(ticket=message.ticket, message=message, actor=actor)
            except HelpdeskError as error:
                refused.append(f"{message.ticket.reference}: {error.message}")
            else:
                opened.append(f"{new.reference} (from {message.ticket.reference})")
        if opened:
            self.message_user(request, f"New tickets: {', '.join(opened)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Refused — " + "; ".join(refused), messages.WARNING)

    @admin.display(description="Ticket", ordering="ticket__reference")
    def ticket_reference(self, message):
        return message.ticket.reference

    @admin.display(description="Author")
    def author(self, message):
        return message.author_name

    @admin.display(description="Body")
    def excerpt(self, message):
        return Truncator(message.body).chars(80)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "content_type", "size", "ticket_reference", "download", "created_at")
    list_filter = ("content_type", "created_at")
    list_select_related = ("message__ticket",)
    search_fields = ("filename", "public_id", "message__ticket__reference")
    date_hierarchy = "created_at"
    # Not the file field itself: admin would link its storage URL (/media/...), which
    # nothing serves. The download goes through the view below.
    fields = ("public_id", "message", "filename", "content_type", "size", "download", "created_at")
    readonly_fields = fields

    def get_urls(self):
        download = path(
            "<int:attachment_id>/download/",
            self.admin_site.admin_view(self.download_view),
            name="tickets_attachment_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, attachment_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = Attachment.objects.filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404("No such attachment.")
        return attachment_download(attachment)

    @admin.display(description="File")
    def download(self, attachment):
        return download_link(attachment)

    @admin.display(description="Ticket", ordering="message__ticket__reference")
    def ticket_reference(self, attachment):
        return attachment.message.ticket.reference


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "ticket_reference", "action", "field", "before", "after", "actor_label")
    list_filter = ("action", "created_at")
    list_select_related = ("ticket",)
    search_fields = ("ticket__reference", "actor_label", "field")
    date_hierarchy = "created_at"

    @admin.display(description="Ticket", ordering="ticket__reference")
    def ticket_reference(self, event):
        return event.ticket.reference


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("key", "organization", "ticket", "created_at")
    list_filter = ("created_at", "organization")
    list_select_related = ("organization", "ticket")
    search_fields = ("key", "ticket__reference")
    date_hierarchy = "created_at"

    def has_delete_permission(self, request, obj=None):
        # Forgetting a key lets a client reuse it; that is a decision staff may make.
        return super(ReadOnlyAdmin, self).has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.forget_idempotency_keys(keys=[obj], actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        services.forget_idempotency_keys(
            keys=queryset.select_related("organization"), actor=Actor.agent(request.user)
        )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """Every outbound email as it was rendered, and what became of it."""

    list_display = (
        "created_at",
        "kind",
        "recipient",
        "short_subject",
        "status",
        "attempts",
        "ticket",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "kind", "created_at")
    list_select_related = ("ticket",)
    search_fields = ("recipient", "subject", "provider_message_id", "message_id_header", "ticket__reference")
    date_hierarchy = "created_at"
    actions = ("retry_deliveries_action",)

    @admin.action(description="Send the selected failed deliveries again")
    def retry_deliveries_action(self, request, queryset):
        count = retry_deliveries(queryset)
        if count:
            self.message_user(request, f"Queued {count} deliver{'y' if count == 1 else 'ies'} again.")
        else:
            self.message_user(
                request, "None of the selected deliveries had failed or was stuck.", level=messages.WARNING
            )

    @admin.display(description="Subject", ordering="subject")
    def short_subject(self, delivery):
        return Truncator(delivery.subject).chars(60)

    @admin.display(description="Last error")
    def short_error(self, delivery):
        return Truncator(delivery.last_error).chars(80)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "text", "ticket", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter), "created_at")
    list_select_related = ("user", "ticket")
    search_fields = ("text", "user__email", "ticket__reference")
    date_hierarchy = "created_at"
    actions = ("mark_read",)

    @admin.action(description="Mark as read")
    def mark_read(self, request, queryset):
        count = 0
        by_user: dict = {}
        for notification in queryset.filter(read_at__isnull=True).select_related("user"):
            by_user.setdefault(notification.user, []).append(notification.pk)
        for user, ids in by_user.items():
            count += services.mark_notifications_read(user=user, notification_ids=ids)
        self.message_user(request, f"{count} marked as read.")


@admin.register(Draft)
class DraftAdmin(ReadOnlyAdmin):
    """Agents' unsent composer text: written by their typing, removed when they send."""

    list_display = ("updated_at", "user", "ticket", "kind", "length")
    list_filter = ("kind", "updated_at")
    list_select_related = ("user", "ticket")
    search_fields = ("user__email", "ticket__reference")
    date_hierarchy = "updated_at"
    actions = ("discard",)

    @admin.display(description="Characters")
    def length(self, draft):
        return len(draft.body)

    @admin.action(description="Discard the selected drafts")
    def discard(self, request, queryset):
        count = 0
        for draft in queryset.select_related("user", "ticket"):
            services.discard_draft(ticket=draft.ticket, actor=Actor.agent(draft.user))
            count += 1
        self.message_user(request, f"{count} discarded.")


@admin.register(TicketFollower)
class TicketFollowerAdmin(ReadOnlyAdmin):
    """Agents following tickets (they follow and unfollow from the ticket page)."""

    list_display = ("created_at", "user", "ticket")
    list_select_related = ("user", "ticket")
    search_fields = ("user__email", "ticket__reference")
    actions = ("unfollow",)

    @admin.action(description="Stop these agents following these tickets")
    def unfollow(self, request, queryset):
        count = 0
        for follower in queryset.select_related("user", "ticket"):
            count += services.unfollow_ticket(ticket=follower.ticket, actor=Actor.agent(follower.user))
        self.message_user(request, f"{count} removed.")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    """What each agent chose on their profile page (kinds without a row use the defaults)."""

    list_display = ("user", "kind", "in_app", "email")
    list_filter = ("kind", "in_app", "email")
    list_select_related = ("user",)
    search_fields = ("user__email",)
