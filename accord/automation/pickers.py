"""What the rule form offers to pick rather than type: the record's fields by their labels
(custom ones too), the values a condition's field can take (stages, users, a choice
field's choices…), the users a step can name, and the fields a text can show
(`{{ client.first_name }}`), grouped for the "Insert a field" menu.

Values are stored as the rule has always stored them (a stage's name in a condition, a
user's e-mail in a step); only what the form shows changes."""

from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from accord.accounts.models import Team
from accord.accounts.queries import users_visible_to
from accord.automation import conditions, records
from accord.automation.actions.changes import CHANGEABLE
from accord.contacts.models import Company, Person
from accord.core.models import CustomField
from accord.sales.models import Deal, Pipeline, Stage
from accord.work.models import Task

PARTS = {
    "deal": _("Deal"),
    "client": _("Client"),
    "task": _("Task"),
    "person": _("Person"),
    "company": _("Company"),
    "owner": _("Owner"),
}
YES_NO = [("yes", _("Yes")), ("no", _("No"))]
# The known values of a built-in field, by (the record it is read from, its name).
KNOWN = {
    ("deal", "stage"): "stages",
    ("deal", "pipeline"): "pipelines",
    ("deal", "status"): "deal-status",
    ("task", "status"): "task-status",
    ("task", "kind"): "task-kind",
    ("task", "assignee"): "users",
    ("person", "kind"): "person-kind",
    ("company", "kind"): "company-kind",
    ("client", "kind"): "client-kind",
    ("person", "gender"): "gender",
    ("client", "gender"): "gender",
    ("person", "marketing_consent"): "yes-no",
    ("client", "marketing_consent"): "yes-no",
}
for _part in ("deal", "person", "company", "client"):
    KNOWN[_part, "owner"] = "users"
    KNOWN[_part, "owner_team"] = "teams"


def _custom_fields() -> dict[str, list[CustomField]]:
    """The custom fields in use, by record type."""
    found = defaultdict(list)
    for field in CustomField.objects.filter(retired=False):
        found[field.record_type].append(field)
    return found


def _custom_of(part: str, subject: str, custom: dict) -> list[CustomField]:
    """The custom fields a part of a rule's view holds: a deal's its own; a client's those
    of a person or a company (a deal's client may be either: both, each key once)."""
    if part == "client":
        kinds = [subject] if subject in ("person", "company") else ["person", "company"]
    else:
        kinds = [part] if part in ("person", "company", "deal") else []
    seen, fields = set(), []
    for kind in kinds:
        for field in custom.get(kind, []):
            if field.key not in seen:
                seen.add(field.key)
                fields.append(field)
    return fields


def _custom_key(field: CustomField) -> str:
    if field.type in ("choice", "multi_choice") and field.choices:
        return f"custom-{field.pk}"
    return "yes-no" if field.type == "boolean" else ""


def condition_fields(subject: str) -> list[tuple[str, str, str]]:
    """(path, label, its known values' list) of what a condition can compare: the record's
    own fields first, each part's custom fields after its own, the segment last."""
    custom = _custom_fields()
    choices = []
    for part in [subject, *records.RELATED[subject]]:
        source = "person" if part == "client" else part
        for name, label, _kind in records.FIELDS[source]:
            key = KNOWN.get((part, name), "")
            choices.append((f"{part}.{name}", f"{PARTS[part]} · {label}", key))
        for field in _custom_of(part, subject, custom):
            path = f"{part}.custom.{field.key}"
            choices.append((path, f"{PARTS[part]} · {field.label}", _custom_key(field)))
    return [*choices, (conditions.SEGMENT, str(_("In the segment (its name)")), "segments")]


def changeable_fields(subject: str, chosen=()) -> list[tuple[str, str, str]]:
    """(name, label, its known values' list) of the fields "Change a field" can set on a
    `subject`: its own by their labels, then its custom fields (`custom.<key>`). A name a
    rule holds that is not among them (a retired field) stays offered as it is."""
    labels = {name: label for name, label, _kind in records.FIELDS.get(subject, [])}
    fields = [
        (name, str(labels.get(name, name)), KNOWN.get((subject, name), ""))
        for name in CHANGEABLE.get(subject, [])
    ]
    if subject in CHANGEABLE:
        fields += [
            (f"custom.{field.key}", field.label, _custom_key(field))
            for field in _custom_fields().get(subject, [])
        ]
    names = {name for name, _label, _key in fields}
    return fields + [
        (name, name, "") for name in dict.fromkeys(chosen) if name and name not in names
    ]


def users(user, chosen=()) -> list[tuple[str, str]]:
    """(e-mail, name) of the active colleagues a step can name, by name (a namesake's
    e-mail beside the name). An e-mail a rule holds that no active user has stays offered,
    marked, so the rule reads as it is (its check calls it broken).

    A select, not a search box: a company has tens, at most a few hundred users, and the
    browser's own select finds a name by its first letters (docs/decisions/0002)."""
    people = users_visible_to(user).filter(is_active=True).order_by("full_name", "email")
    found = list(people.values_list("email", "full_name"))
    names = [name or email for email, name in found]
    twice = {name for name in names if names.count(name) > 1}
    options = [
        (email, f"{name} · {email}" if name in twice else name)
        for (email, _full), name in zip(found, names, strict=True)
    ]
    known = {email.casefold() for email, _name in options}
    for email in dict.fromkeys(chosen):
        if email and email.casefold() not in known:
            options.append((email, str(_("%(email)s (not an active user)")) % {"email": email}))
    return options


def canonical_email(email: str, options: list[tuple[str, str]]) -> str:
    """The e-mail as the user's account spells it (a rule may hold it in other case)."""
    spelled = {value.casefold(): value for value, _label in options}
    return spelled.get((email or "").casefold(), email)


def value_lists(subject: str, user, segments) -> list[tuple[str, list[tuple[str, str]]]]:
    """(list name, [(value, label)]) of the known values of the fields a rule on `subject`
    compares or changes: what the form's datalists hold. `segments`: those the user sees."""
    custom = {
        f"custom-{field.pk}": field for fields in _custom_fields().values() for field in fields
    }
    wanted = {key for _path, _label, key in condition_fields(subject)}
    wanted |= {key for _name, _label, key in changeable_fields(subject)}
    lists = []
    for key in sorted(wanted - {""}):
        if key in custom:
            options = [(choice, choice) for choice in custom[key].choices]
        elif key == "segments":
            options = [(segment.name, segment.name) for segment in segments]
        elif key == "users":
            options = users(user)
        else:
            options = KNOWN_VALUES[key]()
        lists.append((key, [(str(value), str(label)) for value, label in options]))
    return lists


def _stages() -> list[tuple[str, str]]:
    """Each stage's name (a condition compares the name), with the pipelines that have it."""
    pipelines_of = defaultdict(list)
    stages = Stage.objects.filter(retired=False, pipeline__retired=False)
    for name, pipeline in stages.order_by(
        "pipeline__position", "pipeline__name", "position"
    ).values_list("name", "pipeline__name"):
        pipelines_of[name].append(pipeline)
    return [(name, " · ".join(found)) for name, found in pipelines_of.items()]


def _names(queryset) -> list[tuple[str, str]]:
    return [(name, name) for name in queryset.values_list("name", flat=True)]


KNOWN_VALUES = {
    "stages": _stages,
    "pipelines": lambda: _names(
        Pipeline.objects.filter(retired=False).order_by("position", "name")
    ),
    "teams": lambda: _names(Team.objects.order_by("name")),
    "deal-status": lambda: Deal.STATUSES,
    "task-status": lambda: Task.STATUSES,
    "task-kind": lambda: Task.KINDS,
    "person-kind": lambda: Person.KINDS,
    "company-kind": lambda: Company.KINDS,
    "client-kind": lambda: dict([*Person.KINDS, *Company.KINDS]).items(),
    "gender": lambda: [(value, label) for value, label in Person.GENDERS if value],
    "yes-no": lambda: YES_NO,
}


# --- merge fields ----------------------------------------------------------------------

# What a text shows badly (lists, yes/no, codes) or another group holds (the owner).
NOT_IN_TEXTS = {"tags", "marketing_consent", "kind", "status", "owner", "owner_team", "assignee"}
OWNER_FIELDS = [("name", _("Name")), ("email", _("E-mail")), ("team", _("Team"))]


def merge_fields(subject: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group, [(`{{ path }}`, label)]) of what a step's text can show for a rule on
    `subject`, by the records its view holds: the record, its deal, its client, the owner.
    A rule on a person or a company names them as "client" (the same values)."""
    custom = _custom_fields()
    parts = ["client"] if subject in ("person", "company") else [subject, *records.RELATED[subject]]
    groups = []
    for part in parts:
        fields = _text_fields(part, subject)
        if part == "task":
            fields.append(("assignee_name", _("Assignee")))
        fields += [(f"custom.{f.key}", f.label) for f in _custom_of(part, subject, custom)]
        groups.append((PARTS[part], [(_tag(f"{part}.{name}"), label) for name, label in fields]))
    owner = [(_tag(f"owner.{name}"), label) for name, label in OWNER_FIELDS]
    return [*groups, (PARTS["owner"], owner)]


def _tag(path: str) -> str:
    return "{{ " + path + " }}"


def _text_fields(part: str, subject: str) -> list[tuple[str, str]]:
    """The built-in fields of a part a text can show; a deal's or a task's client is a
    person or a company, so it offers both's (a company's website too)."""
    if part == "client" and subject not in ("person", "company"):
        person = {name for name, _label, _kind in records.PERSON_FIELDS}
        fields = [
            *records.PERSON_FIELDS,
            *(f for f in records.COMPANY_FIELDS if f[0] not in person),
        ]
    else:
        fields = records.FIELDS[subject if part == "client" else part]
    return [(name, label) for name, label, kind in fields
            if name not in NOT_IN_TEXTS and kind != "list"]  # fmt: skip
