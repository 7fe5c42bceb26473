import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Organization
from helpdesk.ids import PublicIdField

from .querysets import OPEN_STATUSES, TicketManager
from .rendering import render_markdown


def new_access_key() -> str:
    return f"tk_{secrets.token_urlsafe(24)}"


class Inbox(models.Model):
    """The scope a ticket belongs to: appbox's paywall, CrawlChat's collection."""

    class AutoAssignment(models.TextChoices):
        OFF = "off", "Off"
        LEAST_LOADED_N1 = "least_loaded_n1", "Least-loaded available N1 agent"

    public_id = PublicIdField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="inboxes")
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=10,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{0,9}$", "Use 1–10 capital letters or digits.")],
        help_text='Ticket references read "<prefix>-<number>", e.g. INV-1042.',
    )
    support_email = models.EmailField(
        blank=True, help_text="Receives a copy of each new ticket; empty for SUPPORT_EMAIL."
    )
    # Set when the address was proven ours (a link mailed to it was followed, or its domain
    # is in SUPPORT_EMAIL_VERIFIED_DOMAINS). Until then no mail is routed by it and none is
    # sent to or as it: anyone can type any address, only its owner can verify it.
    support_email_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    daily_limit_per_customer = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=None,
        help_text="New tickets per customer per day (appbox's paywalls allow 2); empty for no limit.",
    )
    auto_assignment = models.CharField(max_length=20, choices=AutoAssignment, default=AutoAssignment.OFF)
    assign_on_reply = models.BooleanField(
        default=True,
        help_text="An agent's public reply on an unassigned ticket assigns it to them.",
    )
    auto_resolve_pending_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=None,
        help_text="Resolve a ticket left pending (waiting on the customer) this many days; "
        "empty to keep it pending.",
    )
    is_default = models.BooleanField(
        default=False, help_text="Takes tickets that name no inbox (one per organization)."
    )
    next_number = models.PositiveIntegerField(default=1, editable=False)
    # Service levels (the sla app): the calendar SLA targets count in; none is 24/7.
    business_hours = models.ForeignKey(
        "sla.BusinessHours",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inboxes",
        help_text="Working time for SLA targets; empty for 24/7.",
    )
    # Customer satisfaction (the sla app): ask when a ticket is resolved, after a delay.
    satisfaction_survey = models.BooleanField(
        default=False, help_text="Ask the customer for a rating when a ticket is resolved."
    )
    satisfaction_delay_minutes = models.PositiveIntegerField(
        default=60, help_text="How long after the resolution to ask."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["organization", "name"]
        verbose_name_plural = "inboxes"
        constraints = [
            models.UniqueConstraint(fields=["organization", "prefix"], name="inbox_unique_prefix"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="inbox_one_default"
            ),
            # One verified owner per address across the installation. Unverified claims may
            # coexist (so nobody can squat an address by typing it first); whoever proves it
            # first owns it.
            models.UniqueConstraint(
                Lower("support_email"),
                condition=Q(support_email_verified_at__isnull=False) & ~Q(support_email=""),
                name="inbox_unique_verified_support_email",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def support_email_verified(self) -> bool:
        return bool(self.support_email) and self.support_email_verified_at is not None

    @property
    def notification_address(self) -> str:
        """Where the new-ticket copies go: the inbox's own address once it is verified."""
        return self.support_email if self.support_email_verified else settings.SUPPORT_EMAIL


class Mailbox(models.Model):
    """A mailbox an inbox reads its mail from (IMAP or POP3), for installations without a
    provider webhook: ``manage.py fetch_mail`` (tickets/mail/fetch.py)."""

    class Protocol(models.TextChoices):
        IMAP = "imap", "IMAP"
        POP3 = "pop3", "POP3"

    class Security(models.TextChoices):
        TLS = "tls", "TLS (IMAPS 993, POP3S 995)"
        STARTTLS = "starttls", "STARTTLS"
        NONE = "none", "None (only on a trusted network)"

    class Authentication(models.TextChoices):
        PASSWORD = "password", "Password"
        XOAUTH2 = "xoauth2", "OAuth2 access token (XOAUTH2: Gmail, Microsoft 365)"

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="mailbox")
    protocol = models.CharField(max_length=10, choices=Protocol, default=Protocol.IMAP)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    security = models.CharField(max_length=10, choices=Security, default=Security.TLS)
    authentication = models.CharField(max_length=10, choices=Authentication, default=Authentication.PASSWORD)
    username = models.CharField(max_length=255)
    # Fernet-encrypted under a key derived from SECRET_KEY (helpdesk/encryption.py); never
    # shown again once saved.
    password_encrypted = models.TextField(blank=True, editable=False)
    folder = models.CharField(max_length=255, default="INBOX", help_text="IMAP only.")
    is_active = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    def __str__(self):
        return f"{self.get_protocol_display()} {self.username}@{self.host}"


class FetchedMail(models.Model):
    """A message already imported from a mailbox: by UIDVALIDITY and UID (IMAP) or UIDL
    (POP3, uidvalidity 0), so nothing is imported twice."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="fetched")
    uidvalidity = models.BigIntegerField()
    uid = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"], name="fetched_mail_unique_uid")
        ]

    def __str__(self):
        return f"{self.uidvalidity}/{self.uid} of {self.mailbox_id}"


class Customer(models.Model):
    """The person a ticket is for; created on first contact, per organization."""

    public_id = PublicIdField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="customers")
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(
        max_length=200, blank=True, help_text="The integrator's own id for this person."
    )
    metadata = models.JSONField(default=dict, blank=True)

    class EmailProblem(models.TextChoices):
        NONE = "", "None"
        BOUNCED = "bounced", "Mail to it bounced"
        COMPLAINED = "complained", "Marked our mail as spam"

    # Reported by the mail provider's tracking webhook (tickets/mail/tracking.py): shown to
    # agents so they know why the customer hears nothing.
    email_problem = models.CharField(max_length=12, choices=EmailProblem, default="", blank=True)
    email_problem_at = models.DateTimeField(null=True, blank=True)
    # Set when the customer's data was erased (tickets/services/data_rights.py): the record
    # stays, without anything that names the person, so their tickets still count.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=~Q(email=""),
                name="customer_unique_email",
            ),
            models.CheckConstraint(
                condition=~Q(email="", external_id=""), name="customer_has_email_or_external_id"
            ),
        ]
        # Ticket search by a customer's email, across the caller's organizations.
        indexes = [models.Index(fields=["email"], name="customer_email")]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.erased_at is not None:
            return "Erased customer"
        return self.name or self.email or self.external_id


class Tag(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_unique_name")]

    def __str__(self):
        return self.name


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        # Waiting on the customer: their reply moves it back to open.
        PENDING = "pending", "Pending"
        # Waiting on a third party (a supplier, another team).
        ON_HOLD = "on_hold", "On hold"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"
        CRITICAL = "critical", "Critical"

    class Channel(models.TextChoices):
        API = "api", "API"
        EMAIL = "email", "Email"
        WEB = "web", "Web"
        AGENT = "agent", "Agent"

    public_id = PublicIdField()
    # No index of their own on these keys: each leads a composite index below, which serves
    # their lookups and the foreign-key checks alike, and every create maintains one less.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="tickets", db_index=False
    )
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=24)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    priority = models.CharField(max_length=10, choices=Priority, default=Priority.NORMAL)
    # The priority as a number (low 0 ... critical 4), kept by the database itself, so that
    # "highest priority first" is an index scan rather than a sort of every ticket.
    priority_rank = models.GeneratedField(
        expression=models.Case(
            *(
                models.When(priority=value, then=models.Value(rank))
                for rank, value in enumerate(Priority.values)
            ),
            default=models.Value(0),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )
    category = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=10, choices=Channel, default=Channel.API)
    # The seed product's API the ticket was created through ("supportdesk", "appbox", ...),
    # empty for the native faces: triggers tell a SupportDesk ticket from a native API one.
    dialect = models.CharField(max_length=20, blank=True, default="", db_default="")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets", db_index=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    reply_address = models.CharField(
        max_length=254, blank=True, help_text="Where the customer wants the answer."
    )
    # Opened by someone who typed an address (support form, email) and has not yet proven
    # it is theirs, by following the emailed link or replying from it. Shown to agents;
    # such a ticket is kept off an existing customer's record until proven.
    sender_unverified = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    # The organization's own fields (CustomField), by key: validated by type in the
    # services, searched through a GIN index (jsonb_path_ops) on PostgreSQL.
    custom_fields = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    access_key = models.CharField(max_length=64, default=new_access_key, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set when the ticket's contents were erased (its customer's erasure, or the
    # organization's retention rule): subject, bodies and files are gone, the row counts on.
    redacted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Service levels, written only by the sla app's services (sla/services.py) when an
    # event changes them, so lists sort and filter by them and never compute them per row.
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    # The name of the policy that applied when that policy was deleted (sla_policy is then
    # empty): the reports still count the ticket under it, and its clocks still stop.
    sla_deleted_policy_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    first_reply_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_reply_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The earliest of the running targets (none while paused): "due soonest".
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # When the escalation scheduler must next look at the ticket (a warning or a breach).
    sla_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The targets breached so far (["first_reply", ...]) and when the first one was.
    sla_breached = models.JSONField(default=list, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    # Exactly-once markers of the running clocks: "<target>:warning" / "<target>:breach",
    # set under the row lock in the transaction that records the event.
    sla_fired = models.JSONField(default=list, blank=True)
    # While the status pauses the clocks (sla.services.paused_statuses()): since when.
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # When a pending ticket resolves itself (its inbox's auto_resolve_pending_days after it
    # became pending); None when it is not pending or its inbox does not auto-resolve.
    auto_resolve_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who spoke last, kept by the message services. customer_waiting_since is the first
    # public customer message not yet answered by a public reply of ours (None when we spoke
    # last): the queue's default order, longest wait first.
    last_customer_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_agent_reply_at = models.DateTimeField(null=True, blank=True, editable=False)
    customer_waiting_since = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the ticket was merged into another (services/relations.py): it is closed for
    # good, and its private link and the mail that answers it lead to that ticket.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_tickets",
    )
    # PostgreSQL only: the reference, subject and every message body as one tsvector, kept
    # up to date by the services and searched through a GIN index (migration 0006).
    search_document = SearchVectorField(null=True, editable=False)

    objects = TicketManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["inbox", "number"], name="ticket_unique_inbox_number"),
        ]
        indexes = [
            # The queue and the API list: newest first within an organization, narrowed by
            # the filters agents use most.
            models.Index(fields=["organization", "-created_at", "-id"], name="ticket_org_created"),
            # The priority last lets a status and a priority together ("open, high") be
            # listed and counted from the index alone.
            models.Index(
                fields=["organization", "status", "-created_at", "-id", "priority"],
                name="ticket_org_status_created",
            ),
            models.Index(fields=["organization", "-updated_at"], name="ticket_org_updated"),
            models.Index(fields=["organization", "priority", "-created_at"], name="ticket_org_priority"),
            # The sorts over all tickets: by priority ("highest first" reads it backwards:
            # newest first within a priority; "lowest first", oldest first) and by number.
            models.Index(
                fields=["organization", "priority_rank", "created_at", "id"], name="ticket_org_priority_rank"
            ),
            models.Index(fields=["organization", "number", "id"], name="ticket_org_number"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_created"),
            models.Index(fields=["inbox", "-created_at"], name="ticket_inbox_created"),
            # The queue's and the API's inbox filter: its newest tickets, and its capped
            # count read from the index alone (10,001 entries) rather than the table; the
            # status last in it answers "this inbox's closed tickets" from it too.
            models.Index(
                fields=["organization", "inbox", "-created_at", "-id", "status"],
                name="ticket_org_inbox_created",
            ),
            # The same for the assignee filter ("tickets of this agent"): at a million
            # tickets its capped count read 60,000 rows of the table to find 10,001.
            models.Index(
                fields=["organization", "assignee", "-created_at", "-id", "status"],
                name="ticket_org_assignee_created",
            ),
            models.Index(fields=["organization", "reference"], name="ticket_org_reference"),
            # Reports: tickets resolved per day within a date range.
            models.Index(fields=["organization", "resolved_at"], name="ticket_org_resolved"),
            # Service levels: "due soonest", "due within 1 h", and "breached".
            models.Index(fields=["organization", "sla_due_at"], name="ticket_org_sla_due"),
            models.Index(fields=["organization", "-sla_breached_at"], name="ticket_org_sla_breached"),
            # A policy's deletion finds its tickets (to keep its name on them, and Django's
            # SET_NULL after it) without reading the whole table; tickets without a policy
            # are left out. Built concurrently by migration 0036 on PostgreSQL.
            models.Index(
                fields=["sla_policy"], condition=Q(sla_policy__isnull=False), name="ticket_sla_policy"
            ),
            # The queue's default order among unsolved tickets: who has waited longest for us
            # (NULLS LAST is PostgreSQL's ascending default, so the index serves it as is).
            # The assignee, last, lets "mine" and "unassigned" find a page's ids from the
            # index alone. Built concurrently by migration 0019 on PostgreSQL.
            models.Index(
                fields=["organization", "customer_waiting_since", "id", "assignee"],
                condition=Q(status__in=sorted(OPEN_STATUSES)),
                name="ticket_org_waiting",
            ),
            # The auto-resolve sweep: only pending tickets of inboxes that auto-resolve.
            models.Index(
                fields=["auto_resolve_at"],
                condition=Q(auto_resolve_at__isnull=False),
                name="ticket_auto_resolve_due",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.subject}"

    @property
    def private_path(self) -> str:
        return reverse("portal:ticket", args=[self.public_id, self.access_key])

    @property
    def private_url(self) -> str:
        return f"{settings.SITE_URL}{self.private_path}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketLink(models.Model):
    """How one ticket relates to another of its organization, seen from ``ticket``.

    Every relation is stored once per direction (a merge is "merged into" on the source and
    "merged from" on the target; "related to" on both), so a ticket's page reads its own
    links in one indexed query.
    """

    class Kind(models.TextChoices):
        RELATED = "related", "Related to"
        MERGED_INTO = "merged_into", "Merged into"
        MERGED_FROM = "merged_from", "Merged from"
        SPLIT_INTO = "split_into", "Split into"
        SPLIT_FROM = "split_from", "Split from"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links")
    other = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "other", "kind"], name="ticket_link_unique"),
            models.CheckConstraint(condition=~Q(ticket=models.F("other")), name="ticket_link_not_itself"),
        ]

    def __str__(self):
        return f"{self.ticket.reference} {self.get_kind_display().lower()} {self.other.reference}"


class CustomField(models.Model):
    """A field an organization records on its tickets (an order id, a plan, a due date).

    Values live on the ticket (``Ticket.custom_fields``, by ``key``); this row says what a
    value may be. No inboxes means it shows in every inbox.
    """

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text"
        NUMBER = "number", "Number"
        DECIMAL = "decimal", "Decimal"
        CHECKBOX = "checkbox", "Checkbox"
        DATE = "date", "Date"
        DROPDOWN = "dropdown", "Dropdown"
        MULTI_SELECT = "multi_select", "Multi-select"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.CharField(
        max_length=36,
        validators=[
            RegexValidator(r"^[A-Za-z][A-Za-z0-9_]*$", "Letters, digits and _, starting with a letter.")
        ],
        help_text="The name in the API and in filters (cf.<key>); never changes.",
    )
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=Type)
    options = models.JSONField(
        default=list, blank=True, help_text="The choices of a dropdown or multi-select."
    )
    required_to_resolve = models.BooleanField(
        default=False, help_text="An agent cannot resolve or close a ticket without a value."
    )
    inboxes = models.ManyToManyField(
        Inbox, blank=True, related_name="custom_fields", help_text="Where it shows; none means every inbox."
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="custom_field_unique_key"),
        ]

    def __str__(self):
        return self.label

    @property
    def has_options(self) -> bool:
        return self.type in {self.Type.DROPDOWN, self.Type.MULTI_SELECT}


class Participant(models.Model):
    """Someone copied on a ticket besides its customer: a Cc of the customer's email, or
    added by an agent. Mailed every public reply, and may answer through the reply
    address issued to them."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="participants")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="participations")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "customer"], name="participant_unique_per_ticket")
        ]

    def __str__(self):
        return f"{self.customer} on {self.ticket_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", "Public reply"
        NOTE = "note", "Internal note"

    class AuthorType(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

    public_id = PublicIdField()
    # Indexed by message_ticket_created, which leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.REPLY)
    author_type = models.CharField(max_length=10, choices=AuthorType)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_messages",
    )
    author_customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    # Who wrote an internal note that no agent wrote ("Trigger: <name>", an API key), as its
    # event records it. Public messages keep none: customers see them from "Helpdesk".
    author_label = models.CharField(max_length=200, blank=True, default="", db_default="", editable=False)
    channel = models.CharField(max_length=10, choices=Ticket.Channel, default=Ticket.Channel.API)
    body = models.TextField(help_text="Markdown, rendered sanitized.")
    body_html = models.TextField(
        blank=True, editable=False, help_text="The body rendered and sanitized, once, when written."
    )
    email_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    raw_email = models.TextField(blank=True, help_text="The whole inbound email, as received.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]

    def __str__(self):
        # Admin shows this above each message of a ticket: its reference, not a database id.
        return f"{self.get_kind_display()} on {self.ticket.reference} by {self.author_name}"

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.REPLY

    @property
    def html(self) -> SafeString:
        # body_html is nh3's output (tickets.rendering), so it is safe to mark as such.
        return mark_safe(self.body_html or render_markdown(self.body))  # noqa: S308

    @property
    def author_name(self) -> str:
        if self.author_user_id:
            return self.author_user.display_name
        if self.author_customer_id:
            return self.author_customer.display_name
        return self.author_label or "Helpdesk"


def attachment_path(instance, filename):
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}/{filename}"


class Attachment(models.Model):
    public_id = PublicIdField()
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.filename


class TicketEvent(models.Model):
    """One change to a ticket: who, what, before, after, when."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        STATUS_CHANGED = "status_changed", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        UPDATED = "updated", "Updated"
        TAGS_CHANGED = "tags_changed", "Tags changed"
        REPLIED = "replied", "Replied"
        NOTE_ADDED = "note_added", "Internal note added"
        ACCESS_KEY_ROTATED = "access_key_rotated", "Private link rotated"
        CONTENTS_ERASED = "contents_erased", "Contents erased"
        SLA_APPLIED = "sla_applied", "SLA policy applied"
        SLA_WARNING = "sla_warning", "SLA warning"
        SLA_BREACHED = "sla_breached", "SLA breached"
        SATISFACTION_RATED = "satisfaction_rated", "Satisfaction rated"
        MERGED = "merged", "Merged"
        SPLIT = "split", "Split"
        LINKED = "linked", "Linked"
        UNLINKED = "unlinked", "Unlinked"

    # Indexed by event_ticket_created, which leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    action = models.CharField(max_length=30, choices=Action)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted, as shown to people.")
    field = models.CharField(max_length=50, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self):
        return f"{self.get_action_display()} by {self.actor_label}"


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key, remembered so a retried create creates nothing."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="Hash of the request it was used with.")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="idempotency_unique_key")]

    def __str__(self):
        return self.key


class Delivery(models.Model):
    """One outbound email, from queued to sent or failed."""

    class Kind(models.TextChoices):
        NEW_TICKET = "new_ticket", "New ticket to support"
        ASSIGNED = "assigned", "Assigned to agent"
        CONFIRMATION = "confirmation", "Confirmation to customer"
        AGENT_REPLY = "agent_reply", "Agent reply to customer"
        CUSTOMER_REPLY = "customer_reply", "Customer reply to agent"
        MENTION = "mention", "Mention to agent"
        STATUS = "status", "Resolved or closed"
        PORTAL_LINK = "portal_link", "Portal sign-in link"
        ADDRESS_VERIFICATION = "address_verification", "Support address verification"
        AUTOMATIC = "automatic", "Automatic email (trigger)"
        SLA = "sla", "SLA warning or breach to agents"
        SATISFACTION = "satisfaction", "Satisfaction survey to customer"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # After "sent", as the provider's tracking webhook reports it.
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    recipient = models.EmailField()
    kind = models.CharField(max_length=20, choices=Kind)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    message_id_header = models.CharField(max_length=255, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The email as rendered when it was queued, so a retry sends exactly what was
    # recorded, even after the ticket changed (tickets/mail/outbound.py).
    from_email = models.CharField(max_length=320, blank=True)
    reply_to = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Threading and loop-guard headers.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next retry is due while the delivery is queued."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "created_at"], name="delivery_status_created")]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient} ({self.status})"


class Notification(models.Model):
    """An in-app notification for an agent (the bell)."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "A ticket is assigned to me"
        CUSTOMER_REPLY = "customer_reply", "A customer replies on my ticket (or an unassigned one)"
        MENTION = "mention", "Someone @mentions me in a note"
        FOLLOWING = "following", "Activity on a ticket I follow"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.ASSIGNED)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self):
        return self.text


class SavedReply(models.Model):
    """A canned answer an agent inserts into the composer; {{ customer_name }} is filled in."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="saved_replies")
    title = models.CharField(max_length=100)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "saved replies"

    def __str__(self):
        return self.title


class Draft(models.Model):
    """What an agent has typed in a ticket's composer and not sent yet: kept on the server
    so it follows them across devices; removed when they send."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    kind = models.CharField(max_length=10, choices=Message.Kind, default=Message.Kind.REPLY)
    body = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="draft_one_per_ticket_and_agent")
        ]

    def __str__(self):
        return f"Draft by {self.user_id} on {self.ticket_id}"


class TicketFollower(models.Model):
    """An agent following a ticket: told of customer replies and notes on it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_tickets"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="follower_unique_per_ticket")]

    def __str__(self):
        return f"{self.user_id} follows {self.ticket_id}"


class NotificationPreference(models.Model):
    """How an agent wants one kind of notification: in the dashboard's bell, by email, both
    or neither. No row means the kind's defaults (``DEFAULTS``)."""

    DEFAULTS: dict[str, tuple[bool, bool]] = {
        Notification.Kind.ASSIGNED: (True, True),
        Notification.Kind.CUSTOMER_REPLY: (True, True),
        Notification.Kind.MENTION: (True, True),
        Notification.Kind.FOLLOWING: (True, False),
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Notification.Kind)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="preference_unique_per_kind")]

    def __str__(self):
        return f"{self.user_id} {self.kind}: in app {self.in_app}, email {self.email}"
