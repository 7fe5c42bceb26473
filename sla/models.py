"""Service levels: business-hours calendars and SLA policies.

The due times a policy gives a ticket are stored on the ticket itself
(``Ticket.first_reply_due_at`` and its neighbours, written by ``sla.services``), so lists
sort and filter by them through an index and never compute them per row.
"""

from django.db import models
from django.utils import timezone

from accounts.models import Organization
from helpdesk.ids import PublicIdField

from .calendar import Calendar


class BusinessHours(models.Model):
    """A calendar of an organization: a time zone, weekly hours and holidays.

    An inbox uses one (``Inbox.business_hours``); an inbox without one works 24/7.
    ``weekly`` is ``[{"day": "mon", "start": "09:00", "end": "17:00"}, ...]`` (several
    intervals a day are allowed; an end not after its start runs over midnight);
    ``holidays`` is a list of ISO dates, local to the time zone.
    """

    public_id = PublicIdField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="business_hours")
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default="UTC")
    weekly = models.JSONField(default=list, blank=True)
    holidays = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "business hours"
        verbose_name_plural = "business hours"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="business_hours_unique_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.time_zone})"

    def calendar(self) -> Calendar:
        return Calendar.from_spec(time_zone=self.time_zone, weekly=self.weekly, holidays=self.holidays)


class SlaPolicy(models.Model):
    """Targets for the tickets that match its conditions; the first match (by ``position``)
    of the organization's active policies applies.

    ``conditions`` (all optional, all must hold): ``inbox`` (inbox public ids),
    ``priority``, ``channel``, ``tag`` (tag names; any of them), ``customer_metadata``
    (``{"plan": "pro"}``: every key equals). Targets are in minutes of working time of the
    calendar (``business_hours``, else the ticket's inbox's) when ``time_basis`` is
    ``business``, of wall-clock time when ``calendar``.
    """

    class TimeBasis(models.TextChoices):
        BUSINESS = "business", "Business hours"
        CALENDAR = "calendar", "Calendar time (24/7)"

    public_id = PublicIdField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sla_policies")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0, help_text="Lower first: the first match applies.")
    is_active = models.BooleanField(default=True)
    business_hours = models.ForeignKey(
        BusinessHours,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="policies",
        help_text="Empty: the ticket's inbox's business hours (24/7 if it has none).",
    )
    time_basis = models.CharField(max_length=10, choices=TimeBasis, default=TimeBasis.BUSINESS)
    conditions = models.JSONField(default=dict, blank=True)
    first_reply_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_reply_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Escalation: a warning at a share of the target, or some minutes before it (the
    # earlier of the two when both are set), and optionally a higher priority.
    warning_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    warning_minutes_before = models.PositiveIntegerField(null=True, blank=True)
    raise_priority_to = models.CharField(
        max_length=10, blank=True, help_text="On breach, raise the priority to this (never lower it)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["organization", "position", "id"]
        indexes = [models.Index(fields=["organization", "position"], name="sla_policy_org_position")]

    def __str__(self):
        return self.name


class Satisfaction(models.Model):
    """The customer's rating of a resolved ticket: one per ticket, changeable for 7 days.

    Made when the ticket is resolved in an inbox that asks (``Inbox.satisfaction_survey``):
    ``ask_at`` is when to send the survey (after ``Inbox.satisfaction_delay_minutes``);
    the scheduler sends it once (``asked_at``). ``rating`` stays empty until the customer
    clicks on the rating page.
    """

    class Rating(models.TextChoices):
        GOOD = "good", "Good"
        BAD = "bad", "Bad"

    public_id = PublicIdField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="satisfaction")
    rating = models.CharField(max_length=4, choices=Rating, blank=True)
    comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    first_rated_at = models.DateTimeField(null=True, blank=True, editable=False)
    ask_at = models.DateTimeField(null=True, blank=True)
    asked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "satisfaction rating"
        indexes = [
            models.Index(fields=["organization", "-rated_at"], name="satisfaction_org_rated"),
            models.Index(
                fields=["ask_at"], name="satisfaction_ask_at", condition=models.Q(asked_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.get_rating_display() or 'Not rated'} for ticket {self.ticket_id}"
