"""People and companies (the client base), their phones and e-mails, and tags."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accord.core.models import Record


def compose_full_name(first: str, middle: str, last: str) -> str:
    """A person's name as lists show and sort it: "First Middle Last" (the one place it
    is composed: forms, the API, imports, merges and undo all come here)."""
    return " ".join(part for part in (first, middle, last) if part)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Client(Record):
    """What people and companies share: owner, place, source, tags, custom fields."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    primary_phone = models.CharField(_("phone"), max_length=20, blank=True)
    primary_email = models.CharField(_("e-mail"), max_length=254, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    address = models.TextField(_("address"), blank=True, max_length=1000)
    source = models.CharField(_("source"), max_length=100, blank=True)
    # The client's id in the system it came from (imports match duplicates by it).
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Company(Client):
    KINDS = [("client", _("Client")), ("supplier", _("Supplier")), ("partner", _("Partner"))]

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS, default="client")
    website = models.CharField(_("website"), max_length=200, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["name", "id"], name="company_name_keyset"),
            models.Index(fields=["-updated_at", "-id"], name="company_updated_keyset"),
            models.Index(fields=["owner", "name", "id"], name="company_owner_name"),
            # Every sortable list column pages by its own index (a keyset on (column, id)).
            models.Index(fields=["-created_at", "-id"], name="company_created_keyset"),
            models.Index(fields=["city", "id"], name="company_city_sort"),
            models.Index(fields=["country", "id"], name="company_country_sort"),
            models.Index(fields=["source", "id"], name="company_source_sort"),
            models.Index(fields=["kind", "id"], name="company_kind_sort"),
            models.Index(fields=["primary_phone", "id"], name="company_phone_sort"),
            models.Index(fields=["primary_email", "id"], name="company_email_sort"),
            models.Index(
                fields=["external_id"],
                name="company_external_id",
                condition=~models.Q(external_id=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Person(Client):
    KINDS = [("lead", _("Lead")), ("client", _("Client"))]
    GENDERS = [
        ("", _("Not given")),
        ("female", _("Female")),
        ("male", _("Male")),
        ("other", _("Other")),
    ]

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    # "First Middle Last", kept by the services: lists sort and show it without work.
    full_name = models.CharField(_("name"), max_length=310)
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS, default="lead")
    is_repeat = models.BooleanField(_("repeat customer"), default=False)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=GENDERS, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="people")
    marketing_consent = models.BooleanField(_("agrees to marketing"), default=False)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_source = models.CharField(_("consent source"), max_length=100, blank=True)
    # The language e-mails to the person are written in (a template's variant, the
    # unsubscribe page); empty: the company's language.
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["full_name", "id"], name="person_name_keyset"),
            models.Index(fields=["-updated_at", "-id"], name="person_updated_keyset"),
            models.Index(fields=["-created_at", "-id"], name="person_created_keyset"),
            models.Index(fields=["owner", "full_name", "id"], name="person_owner_name"),
            models.Index(fields=["kind", "full_name", "id"], name="person_kind_name"),
            # Every sortable list column pages by its own index (a keyset on (column, id)).
            models.Index(fields=["city", "id"], name="person_city_sort"),
            models.Index(fields=["country", "id"], name="person_country_sort"),
            models.Index(fields=["source", "id"], name="person_source_sort"),
            models.Index(fields=["kind", "id"], name="person_kind_sort"),
            models.Index(fields=["primary_phone", "id"], name="person_phone_sort"),
            models.Index(fields=["primary_email", "id"], name="person_email_sort"),
            models.Index(
                fields=["external_id"],
                name="person_external_id",
                condition=~models.Q(external_id=""),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def compose_full_name(self) -> None:
        self.full_name = compose_full_name(self.first_name, self.middle_name, self.last_name)


class ContactPoint(models.Model):
    """One phone number (E.164) or e-mail address (lower case) of a person or a company.

    An imported number that is not valid in its country is kept as typed, marked
    `not_valid`, rather than lost or made into another country's number."""

    PHONE, EMAIL = "phone", "email"
    # A point's label is a choice, shown in the reader's language (stored as the key).
    LABELS = {
        PHONE: [("mobile", _("mobile")), ("work", _("work")), ("home", _("home")),
                ("other", _("other"))],
        EMAIL: [("work", _("work")), ("personal", _("personal")), ("other", _("other"))],
    }  # fmt: skip

    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="contact_points"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="contact_points"
    )
    kind = models.CharField(max_length=5, choices=[(PHONE, _("phone")), (EMAIL, _("e-mail"))])
    value = models.CharField(max_length=254)
    label = models.CharField(_("label"), max_length=30, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    not_valid = models.BooleanField(_("not a valid number"), default=False)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["kind", "value"], name="contact_point_lookup")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) ^ models.Q(company__isnull=False),
                name="contact_point_has_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def label_display(self) -> str:
        return str(dict(self.LABELS.get(self.kind, [])).get(self.label, self.label))


class Segment(models.Model):
    """A saved filter over people, companies or deals, private to its owner or shared.

    Campaigns, automation and reports reuse segments; the filter is stored, not the rows,
    so a segment is always current.
    """

    KINDS = [("person", _("People")), ("company", _("Companies")), ("deal", _("Deals"))]

    name = models.CharField(_("name"), max_length=100)
    record_type = models.CharField(_("records"), max_length=10, choices=KINDS)
    filters = models.JSONField(_("filters"), default=dict)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="segments"
    )
    shared = models.BooleanField(_("shared with everyone"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LeadScore(models.Model):
    """A lead's chance to become a client (a won deal), as learned from the company's own
    leads (reports learn it nightly), and the factors that weigh most for this lead."""

    person = models.OneToOneField(
        Person, on_delete=models.CASCADE, primary_key=True, related_name="lead_score"
    )
    probability = models.FloatField()  # 0–1
    factors = models.JSONField(default=list)  # as DealScore's
    scored_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.person_id}: {self.probability:.2f}"

    @property
    def percent(self) -> int:
        return round(self.probability * 100)

    def explained(self) -> list[tuple[str, bool]]:
        """The factors in words, each with whether it raises the chance."""
        either = {
            "email": (_("Left an e-mail address"), _("No e-mail address")),
            "phone": (_("Left a phone number"), _("No phone number")),
            "company": (_("Works at a company"), _("No company")),
            "form": (_("Sent a web form"), _("Sent no web form")),
        }
        counted = {
            "call": _("Calls logged: %(value)s (usually %(usual)s)"),
            "meeting": _("Meetings: %(value)s (usually %(usual)s)"),
            "email_logged": _("E-mails logged: %(value)s (usually %(usual)s)"),
            "deals": _("Deals opened: %(value)s (usually %(usual)s)"),
        }
        found = []
        for factor in self.factors:
            key, up = factor["key"], factor["effect"] > 0
            if key == "channel":
                text = _("Came through %(name)s") if factor["value"] else _("Not through %(name)s")
                found.append((str(text) % {"name": gettext(factor["name"])}, up))
            elif key in either:
                found.append((str(either[key][0 if factor["value"] else 1]), up))
            elif key in counted:
                found.append((str(counted[key]) % factor, up))
        return found
