import secrets as stdlib_secrets

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from rest_framework_api_key.crypto import KeyGenerator
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from helpdesk.ids import PublicIdField

from . import secrets


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in: agents, organization owners, staff. Customers are not users."""

    username = None
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.name or self.email

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.email


def new_jwt_secret() -> str:
    return stdlib_secrets.token_urlsafe(48)


class Organization(models.Model):
    """The tenant: owns inboxes, customers, agents, API keys."""

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        TEAM = "team", "Team"
        BUSINESS = "business", "Business"

    public_id = PublicIdField()
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=60, unique=True)
    plan = models.CharField(max_length=20, choices=Plan, default=Plan.FREE)
    monthly_ticket_quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="Tickets allowed per calendar month; empty for no limit."
    )
    jwt_secret = models.CharField(
        max_length=128,
        default=new_jwt_secret,
        help_text="Signs customer JWTs (HS256) minted by the organization's own app.",
    )
    jwt_public_key = models.TextField(
        blank=True, help_text="PEM public key for customer JWTs signed with RS256."
    )
    agents_may_create_tags = models.BooleanField(
        default=True,
        help_text="Agents may create new tags while tagging tickets. Either way, only owners and "
        "admins rename or delete tags, and agents apply existing ones.",
    )
    members_must_use_two_factor = models.BooleanField(
        default=False,
        help_text="Members sign in with a second step (an authenticator app); those without one "
        "set it up before they see the dashboard. API keys and personal API tokens are unaffected.",
    )

    class RetentionAction(models.TextChoices):
        ANONYMIZE = "anonymize", "Anonymize (keep the tickets, erase their contents)"
        DELETE = "delete", "Delete the tickets"

    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Closed tickets older than this many days (since they were closed) are anonymized "
        "or deleted by the worker; empty keeps them forever.",
    )
    retention_action = models.CharField(
        max_length=10, choices=RetentionAction, default=RetentionAction.ANONYMIZE
    )

    # Bumped by the sla app whenever a policy, a calendar or an inbox's calendar changes:
    # the version key of the organization's cached service levels (0: none ever made, so a
    # create reads nothing at all).
    sla_version = models.PositiveIntegerField(default=0, editable=False)
    # Set anew (a random number) by the automation app whenever a trigger changes: the
    # version key of the organization's compiled triggers, read from the row the ticket
    # services already hold, so running the triggers of a change costs no cache read
    # (0: no trigger ever made). Random, not counted up: a rolled-back change's version
    # never comes back to name other rules.
    automation_version = models.PositiveBigIntegerField(default=0, editable=False)
    # Set anew (a random number) by the inbox services whenever an inbox of the
    # organization changes: a create that holds this row (an API key's organization) takes
    # its inbox from the process's copy of that version instead of reading it
    # (``tickets.selectors.resolve_inbox``). 0: unknown, always read.
    inboxes_version = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's place in an organization: what they may do and whether they take tickets."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        AGENT = "agent", "Agent"

    class Tier(models.TextChoices):
        N1 = "n1", "N1"
        N2 = "n2", "N2"
        N3 = "n3", "N3"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.AGENT)
    tier = models.CharField(max_length=2, choices=Tier, default=Tier.N1)
    is_available = models.BooleanField(default=True, help_text="Available agents take auto-assigned tickets.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_user_organization"
            )
        ]
        indexes = [models.Index(fields=["organization", "tier", "is_available"])]
        ordering = ["organization", "user__email"]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN}


class Invitation(models.Model):
    """An offer to someone who already has an account to join an organization.

    No membership exists until they accept it, signed in as that address: an owner of one
    organization cannot make a person a member of theirs (and so break that person's
    agent token elsewhere) without the person's consent.
    """

    public_id = PublicIdField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Membership.Role, default=Membership.Role.AGENT)
    tier = models.CharField(max_length=2, choices=Membership.Tier, default=Membership.Tier.N1)
    is_available = models.BooleanField(default=True)
    inviter_label = models.CharField(max_length=200, help_text="Who invited, as shown to people.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self):
        return f"{self.email} to {self.organization}"


API_KEY_PREFIX = "hdk"


class PrefixedKeyGenerator(KeyGenerator):
    """Keys read ``hdk_<8-char lookup>.<secret>`` so a leaked one is recognisable."""

    def generate(self):
        lookup = self.get_prefix()
        key = f"{API_KEY_PREFIX}_{lookup}.{self.get_secret_key()}"
        return key, lookup, self.hash(key)


class ApiKeyManager(BaseAPIKeyManager):
    key_generator = PrefixedKeyGenerator(prefix_length=8, secret_key_length=40)

    def get_usable_keys(self):
        # The organization is read with every key (the faces need it); a restricted key's
        # inbox is needed only as ``inbox_id``.
        return super().get_usable_keys().select_related("organization")

    def get_from_key(self, key: str):
        head, _, _ = key.partition(".")
        lookup = head.removeprefix(f"{API_KEY_PREFIX}_")
        api_key = self.get_usable_keys().get(prefix=lookup)
        if not api_key.is_valid(key):
            raise self.model.DoesNotExist("Key is not valid.")
        return api_key


class ApiKey(AbstractAPIKey):
    """An integrator backend's credential for one organization, optionally one inbox."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    inbox = models.ForeignKey(
        "tickets.Inbox",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text="Restrict the key to this inbox; empty for every inbox of the organization.",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    @property
    def display_prefix(self) -> str:
        return f"{API_KEY_PREFIX}_{self.prefix}"


class TokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class HashedToken(models.Model):
    """Common shape of bearer tokens that are shown once and stored hashed."""

    KIND_PREFIX = ""

    lookup = models.CharField(max_length=secrets.LOOKUP_LENGTH, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        abstract = True

    def assign_secret(self) -> str:
        """Give this token a fresh secret; the plaintext is returned once, never stored."""
        new = secrets.make_secret(self.KIND_PREFIX)
        self.lookup = new.lookup
        self.hashed_secret = new.hashed
        return new.plaintext

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    @property
    def display_prefix(self) -> str:
        return f"{self.KIND_PREFIX}_{self.lookup}"

    @classmethod
    def find(cls, plaintext: str):
        """The usable token that this plaintext is, or None."""
        lookup = secrets.parse_lookup(plaintext, cls.KIND_PREFIX)
        if lookup is None:
            return None
        token = cls.objects.usable().filter(lookup=lookup).first()
        if token is None or not secrets.secret_matches(plaintext, token.hashed_secret):
            return None
        return token


class AgentToken(HashedToken):
    """An agent's personal API token for the agent API (and the inapp admin dialect)."""

    KIND_PREFIX = "hda"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.display_prefix}…)"


class CustomerToken(HashedToken):
    """Minted by an integrator so its customer can call the customer API for themselves."""

    KIND_PREFIX = "hdc"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="customer_tokens")
    customer = models.ForeignKey("tickets.Customer", on_delete=models.CASCADE, related_name="tokens")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.display_prefix}… for {self.customer}"


class AuditEvent(models.Model):
    """One change to an organization's settings: who, what, when (the settings audit log)."""

    class Action(models.TextChoices):
        INBOX_CREATED = "inbox_created", "Inbox created"
        INBOX_UPDATED = "inbox_updated", "Inbox updated"
        INBOX_DELETED = "inbox_deleted", "Inbox deleted"
        INBOX_ADDRESS_VERIFIED = "inbox_address_verified", "Inbox address verified"
        ORGANIZATION_CREATED = "organization_created", "Organization created"
        ORGANIZATION_UPDATED = "organization_updated", "Organization updated"
        MEMBER_INVITED = "member_invited", "Member invited"
        INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted"
        INVITATION_RESENT = "invitation_resent", "Invitation sent again"
        MEMBER_UPDATED = "member_updated", "Member updated"
        MEMBER_REMOVED = "member_removed", "Member removed"
        API_KEY_CREATED = "api_key_created", "API key created"
        API_KEY_REVOKED = "api_key_revoked", "API key revoked"
        JWT_SECRET_ROTATED = "jwt_secret_rotated", "JWT secret rotated"
        JWT_PUBLIC_KEY_CHANGED = "jwt_public_key_changed", "JWT public key changed"
        SAVED_REPLY_CREATED = "saved_reply_created", "Saved reply created"
        SAVED_REPLY_UPDATED = "saved_reply_updated", "Saved reply updated"
        SAVED_REPLY_DELETED = "saved_reply_deleted", "Saved reply deleted"
        AGENT_TOKEN_CREATED = "agent_token_created", "Personal API token created"
        AGENT_TOKEN_REVOKED = "agent_token_revoked", "Personal API token revoked"
        CUSTOMER_TOKEN_CREATED = "customer_token_created", "Customer token created"
        CUSTOMER_TOKEN_REVOKED = "customer_token_revoked", "Customer token revoked"
        USER_DELETED = "user_deleted", "User deleted"
        TAG_RENAMED = "tag_renamed", "Tag renamed"
        TAG_DELETED = "tag_deleted", "Tag deleted"
        IDEMPOTENCY_KEYS_FORGOTTEN = "idempotency_keys_forgotten", "Idempotency keys forgotten"
        CUSTOMER_EXPORTED = "customer_exported", "Customer's data exported"
        CUSTOMER_ERASED = "customer_erased", "Customer erased"
        RETENTION_APPLIED = "retention_applied", "Retention rule applied"
        CUSTOM_FIELD_CREATED = "custom_field_created", "Custom field created"
        CUSTOM_FIELD_UPDATED = "custom_field_updated", "Custom field updated"
        CUSTOM_FIELD_DELETED = "custom_field_deleted", "Custom field deleted"
        TRIGGER_CREATED = "trigger_created", "Trigger created"
        TRIGGER_UPDATED = "trigger_updated", "Trigger updated"
        TRIGGER_DELETED = "trigger_deleted", "Trigger deleted"
        MACRO_CREATED = "macro_created", "Macro created"
        MACRO_UPDATED = "macro_updated", "Macro updated"
        MACRO_DELETED = "macro_deleted", "Macro deleted"

        BUSINESS_HOURS_CREATED = "business_hours_created", "Business hours created"
        BUSINESS_HOURS_UPDATED = "business_hours_updated", "Business hours updated"
        BUSINESS_HOURS_DELETED = "business_hours_deleted", "Business hours deleted"
        SLA_POLICY_CREATED = "sla_policy_created", "SLA policy created"
        SLA_POLICY_UPDATED = "sla_policy_updated", "SLA policy updated"
        SLA_POLICY_DELETED = "sla_policy_deleted", "SLA policy deleted"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=200, help_text="Who acted, as shown to people.")
    action = models.CharField(max_length=30, choices=Action)
    target = models.CharField(max_length=200, blank=True, help_text="What was changed, in words.")
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="audit_organization_created")]

    def __str__(self):
        return f"{self.get_action_display()}: {self.target} by {self.actor_label}"


class RateCounter(models.Model):
    """One fixed-window counter of a rate limit (``accounts/ratelimit.py``).

    Limits live in the database, not the cache: an increment is one locked row, so the
    count is exact across every worker and machine, and a cache outage leaves it intact.
    """

    key = models.CharField(max_length=100, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count} until {self.expires_at:%Y-%m-%d %H:%M}"
