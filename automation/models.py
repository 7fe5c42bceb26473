"""Triggers (rules the organization's tickets run through) and macros (an agent's bundles
of actions with a reply). Both hold their rules as JSON in the vocabulary of
``automation/rules.py``, which checks them before they are saved."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization


class Trigger(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="triggers")
    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Triggers run in this order, lowest first.")
    # A name from the registry in rules.py (extensible: SLA events join it), not a choice
    # list frozen in a migration.
    event = models.CharField(max_length=50)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list, blank=True)
    # Where assign_round_robin continues from (the number of tickets it has assigned).
    round_robin_turn = models.PositiveIntegerField(default=0, editable=False)
    fired_count = models.PositiveIntegerField(default=0, editable=False)
    last_fired_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["organization", "position"], name="trigger_org_position")]
        # Its changes are recorded as "Trigger: <name>": the name says which one it was.
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="trigger_unique_name")]

    def __str__(self):
        return self.name


class Macro(models.Model):
    """A named bundle of actions with a reply template, applied to a ticket in one click.

    ``owner`` set: a personal macro, seen by its owner only; empty: shared with the
    organization's agents.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="macros")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="macros"
    )
    name = models.CharField(max_length=100)
    reply = models.TextField(blank=True, help_text="Markdown; {{ customer_name }} and others are filled in.")
    actions = models.JSONField(default=list, blank=True)
    shortcut = models.CharField(
        max_length=1, blank=True, help_text="A key that applies it from the ticket page (Alt+Shift+key)."
    )
    usage_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"], name="macro_org_name")]

    def __str__(self):
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.owner_id is not None
