"""Users (who log in by e-mail), their roles and their personal API tokens."""

import hashlib
from datetime import time
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device

from accord.core.visibility import ALL, NONE, OWN, TEAM, WRITE


class Role(models.Model):
    """What a group of users may see and do. Shipped roles are made after migrate."""

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    # {"clients": {"read": "all", "write": "own"}, ...}; a missing entry means "none".
    access = models.JSONField(_("access"), default=dict, blank=True)
    can_export = models.BooleanField(_("export"), default=False)
    can_import = models.BooleanField(_("import"), default=False)
    can_delete = models.BooleanField(_("delete"), default=False)
    can_manage_users = models.BooleanField(_("manage users"), default=False)
    can_manage_automation = models.BooleanField(_("manage automation"), default=False)
    require_two_factor = models.BooleanField(_("require two-factor login"), default=False)
    # A team's lead rule hands new leads only to members whose role sells (not to the
    # measurer or the installer who are in the team for its tasks).
    takes_leads = models.BooleanField(_("takes new leads"), default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        # Shipped role names are in the translation catalogue; an admin's own are shown as typed.
        return gettext(self.name)

    def level(self, record_type: str, action: str) -> str:
        return self.access.get(record_type, {}).get(action, NONE)

    def has_capability(self, capability: str) -> bool:
        return bool(getattr(self, f"can_{capability}", False))


class Team(models.Model):
    """A department. "Team" visibility means records owned by anyone in the team."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_teams",
    )
    # A member's task this many minutes past due is escalated to the head (empty: never).
    escalation_minutes = models.PositiveIntegerField(
        _("escalate after, minutes"), null=True, blank=True, default=60
    )
    # How new leads given to the team find an owner (empty: they are not distributed).
    ROUND_ROBIN, LEAST_LOADED, FIXED = "round_robin", "least_loaded", "fixed"
    LEAD_RULES = [
        (ROUND_ROBIN, _("Round robin")),
        (LEAST_LOADED, _("Least loaded")),
        (FIXED, _("One person")),
    ]
    lead_rule = models.CharField(
        _("new leads"), max_length=20, choices=LEAD_RULES, blank=True, default=""
    )
    lead_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leads go to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self):
        # Every request reads the user's role (visibility, menus): one query, not two.
        return super().get_queryset().select_related("role")

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", Role.objects.filter(slug="administrator").first())
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    role = models.ForeignKey(
        Role, verbose_name=_("role"), null=True, blank=True, on_delete=models.PROTECT
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    theme = models.CharField(
        _("theme"),
        max_length=10,
        default="system",
        choices=[("system", _("As the system")), ("light", _("Light")), ("dark", _("Dark"))],
    )
    password_changed_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(default=False)
    # Per-user screen choices, e.g. {"columns": {"person": ["phone", "city"]}}.
    preferences = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    @property
    def initials(self) -> str:
        return "".join(word[0] for word in self.display_name.split()[:2]).upper() or "?"

    # --- what the visibility kernel asks (accord.core.visibility.Viewer) -------------
    @cached_property
    def headed_team_ids(self) -> set[int]:
        if getattr(self, "heads_team", True) is False:  # known from the request's user query
            return set()
        return set(self.headed_teams.values_list("pk", flat=True))

    @property
    def has_second_factor(self) -> bool:
        """Whether a confirmed authenticator (or recovery codes) is set up."""
        if hasattr(self, "has_totp"):  # loaded with the user (accounts.backends)
            return self.has_totp or self.has_recovery

        return user_has_device(self, confirmed=True)

    def team_scope_ids(self) -> set[int]:
        ids = set(self.headed_team_ids)
        if self.team_id:
            ids.add(self.team_id)
        return ids

    def access_level(self, record_type: str, action: str) -> str:
        if self.role is None:
            return NONE
        level = self.role.level(record_type, action)
        # The head of a team sees (and works on) the whole team's records.
        return TEAM if level == OWN and self.is_team_head else level

    @property
    def is_team_head(self) -> bool:
        known = getattr(self, "heads_team", None)  # loaded with the user (accounts.backends)
        return bool(self.headed_team_ids) if known is None else known

    def can(self, capability: str) -> bool:
        return self.is_active and self.role is not None and self.role.has_capability(capability)

    @property
    def sets_up_company(self) -> bool:
        """Whether the user changes the company's settings (Settings → Company)."""
        return self.is_active and self.access_level("settings", WRITE) == ALL


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the token is shown once at creation."""

    PREFIX = "acc_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)  # the first characters, to tell tokens apart
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        # Tokens are 256 random bits, so a fast hash is enough (no guessing to slow down).
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class UserSession(models.Model):
    """A browser session of a user, so logging out or deactivation can end it on the server."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}:{self.session_key[:6]}"


class SecurityPolicy(models.Model):
    """Company-wide login rules an admin sets; a single row (pk=1)."""

    password_max_age_days = models.PositiveIntegerField(
        _("require a new password every (days)"),
        default=0,
        help_text=_("0 turns forced password changes off."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "security policy"

    CACHE_KEY = "accord:security-policy"

    @classmethod
    def current(cls) -> "SecurityPolicy":
        """The policy, from the cache when it is there (read on every request)."""

        policy = cache.get(cls.CACHE_KEY)
        if policy is None:
            policy = cls.objects.get_or_create(pk=1)[0]
            cache.set(cls.CACHE_KEY, policy, 300)
        return policy


def working_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday


class WorkSchedule(models.Model):
    """When a user works: the weekdays (0 is Monday) and the hours, in the user's own
    time zone. A user without one works Monday to Friday, 9:00 to 18:00."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="work_schedule"
    )
    weekdays = models.JSONField(_("working days"), default=working_days)
    starts = models.TimeField(_("from"), default=time(9))
    ends = models.TimeField(_("until"), default=time(18))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"schedule of {self.user_id}"


class Absence(models.Model):
    """A user away for whole days, from `starts` to `ends` inclusive (their own dates)."""

    VACATION, SICK, TRIP, OTHER = "vacation", "sick", "trip", "other"
    KINDS = [
        (VACATION, _("Vacation")),
        (SICK, _("Sick leave")),
        (TRIP, _("Business trip")),
        (OTHER, _("Day off")),
    ]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.CASCADE,
        related_name="absences",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS, default=VACATION)
    starts = models.DateField(_("from"))
    ends = models.DateField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts", "id"]
        indexes = [models.Index(fields=["user", "ends", "starts"], name="absence_user_ends")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts}–{self.ends}"
