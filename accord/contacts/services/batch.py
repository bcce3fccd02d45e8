"""Writing many people or companies at once (an import's batches): the batch service.

The same outcome as the single-record services (`services.py`) — the full name, contact
points, tags, custom fields, search entries, the timeline, a team's lead distribution and
one `person.created` / `person.updated` (or `company.*`) event per record, with the
same payloads — but in bulk: new records are written with their ids taken up front
(executemany on SQLite, COPY on PostgreSQL), so a batch of a thousand costs a few
statements.

Duplicates are found on every key: a record matches an existing one by *any* of its
external id, e-mail (kept in lower case) or phone (kept in E.164, or as typed when it is
not a valid number). Records of one batch that share any key are one record (union-find
over the keys); the database holds what earlier batches wrote, so it is the memory
across batches. A record that matches and brings nothing new changes nothing: no
version, no timeline entry, no event.
"""

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import Team, User
from accord.contacts.models import Company, ContactPoint, Person, compose_full_name
from accord.contacts.services.common import (
    RECORD_TYPE,
    can_change,
    reindex,
    require_write,
    search_parts,
    snapshot,
)
from accord.contacts.services.people import hand_over_lead
from accord.contacts.services.points import refresh_primary
from accord.contacts.services.tags import tag_named
from accord.core.bulk import Table, take_ids
from accord.core.events import caused_by, emit, emit_many
from accord.core.models import TimelineEvent
from accord.core.search import index_new_records
from accord.core.timeline import field_changes, timeline_record
from accord.core.visibility import WRITE, allows

SKIP, UPDATE, CREATE = "skip", "update", "create"
# What finds a duplicate; a match by an earlier key wins over a later one.
DUPLICATE_KEYS = ("external_id", "email", "phone")
NOT_WRITTEN = ("company", "note")  # values that are not columns of the record
IN_CHUNK = 5000  # values in one IN (...) list


class Incoming(Protocol):
    """One record's cleaned values, as the caller read them (an import's row)."""

    number: int  # the caller's number for it (a file's row)
    values: dict[str, Any]  # attnames (owner_id), a person's company by name
    phones: list[str]  # E.164
    typed_phones: list[str]  # not valid numbers, kept as typed (marked "not a valid number")
    emails: list[str]  # lower case
    tags: list[str]
    custom: dict[str, Any]
    note: str
    name: str  # as lists show it (worked out by the caller's cleaning, off this core)
    search: list[str]  # its search body's parts


@dataclass
class Outcome:
    """What a batch did: per record its change (for an undo log), per item its fate."""

    changes: list[dict] = field(default_factory=list)  # {action, record_id, row, version, before}
    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "skipped": 0}
    )
    refused: dict[int, str] = field(default_factory=dict)  # item number -> why


@dataclass
class _Group:
    """Items of a batch that are one record (they share a key), folded into one."""

    items: list[Incoming]
    record_id: int | None = None  # the existing record they match

    @property
    def number(self) -> int:
        return self.items[0].number


class ClientBatches:
    """One caller's batches of people or of companies (an import): who writes, what a
    duplicate gets, and what it met already (companies, tags, its bulk writers)."""

    def __init__(
        self,
        *,
        actor: User,
        kind: str,
        on_duplicate: str = SKIP,
        match: bool = True,
        team: Team | None = None,
        cause: dict | None = None,
        origin: dict | None = None,
    ):
        self.actor, self.kind, self.team = actor, kind, team
        self.model = Person if kind == "person" else Company
        self.on_duplicate = on_duplicate
        self.match = match and on_duplicate != CREATE
        self.cause = cause  # what events carry (an import: {"import": job id, ...})
        self.origin = origin or {}  # what timeline entries say it came from
        self.companies: dict[str, int] = {}  # a person's company: name (lower case) -> id
        self.tags: dict[str, int] = {}
        self.tables = {
            model: Table(model, with_id=False)
            for model in (ContactPoint, TimelineEvent, self.model.tags.through)
        }
        self.tables[self.model] = Table(self.model)
        self.tables[Company] = self.tables.get(Company) or Table(Company)
        self.content_types: dict[type, int] = {}


def clients_batch_check(*, actor: User, team: Team | None) -> None:
    """May the actor write clients in bulk, and hand new ones to `team` (whose lead rule
    must be set)? Checked when a batch job is set up, before its first batch."""
    require_write(actor)
    if team is None:
        return
    if not allows(actor, record_type=RECORD_TYPE, action=WRITE, owner_id=0, owner_team_id=team.pk):
        raise ValidationError(
            {"team": [_("You may not hand clients to %(team)s.") % {"team": team}]}
        )
    if not team.lead_rule:
        raise ValidationError(
            {"team": [_("%(team)s does not distribute leads: choose its rule in Settings, Teams.")
                      % {"team": team}]}
        )  # fmt: skip


@transaction.atomic
def clients_batch_save(*, batches: ClientBatches, items: Sequence[Incoming]) -> Outcome:
    """Create, update or skip a batch of records, as `batches` says a duplicate gets."""
    require_write(batches.actor)
    outcome = Outcome()
    now = timezone.now()
    with caused_by(batches.cause) if batches.cause else nullcontext():
        groups = _groups(batches, items)
        new, found = [], []
        for group in groups:
            if group.record_id is None:
                new.append(group)
                rest = "updated" if batches.on_duplicate == UPDATE else "skipped"
                _count(outcome, group, "created", rest)
            elif batches.on_duplicate == SKIP:
                outcome.counts["skipped"] += len(group.items)
            else:
                found.append(group)
        _update_all(batches, found, now, outcome)
        _create(batches, new, now, outcome)
    return outcome


def _count(outcome: Outcome, group: _Group, first: str, rest: str) -> None:
    """The group's first item counts as `first`, the others (duplicates of an item
    above) as `rest`: "updated" when they filled the record in, else "skipped"."""
    outcome.counts[first] += 1
    outcome.counts[rest] += len(group.items) - 1


# --- duplicates ---------------------------------------------------------------------


def clients_batch_duplicates(*, batches: ClientBatches, items: Sequence[Incoming]) -> set[int]:
    """The numbers of the items that duplicate a record in the database or an item above
    them (what a preview shows; nothing is written)."""
    found = set()
    for group in _groups(batches, items):
        start = 0 if group.record_id is not None else 1
        found.update(item.number for item in group.items[start:])
    return found


def _keys(item: Incoming) -> list[tuple[str, str]]:
    """The item's keys. A number kept as typed (not valid in the import's country) is a
    key as typed, as it is stored: the same file imported again finds its people, a new
    company's first import without a country above all (every national number is kept
    as typed there)."""
    keys = [("external_id", item.values["external_id"])] if item.values.get("external_id") else []
    keys.extend(("email", value) for value in item.emails)
    keys.extend(("phone", value) for value in item.phones)
    keys.extend(("phone", value) for value in item.typed_phones)
    return keys


def _groups(batches: ClientBatches, items: Sequence[Incoming]) -> list[_Group]:
    """The batch's items as records: those sharing a key are one (union-find), each
    group with the existing record it matches, by external id, e-mail or phone."""
    if not batches.match:
        return [_Group([item]) for item in items]
    parent = list(range(len(items)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    first: dict[tuple[str, str], int] = {}
    keys_of = [_keys(item) for item in items]
    for n, item_keys in enumerate(keys_of):
        for key in item_keys:
            other = first.setdefault(key, n)
            if other != n:
                a, b = root(n), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)  # the earliest item leads its group
    members: dict[int, list[int]] = {}
    for n in range(len(items)):
        members.setdefault(root(n), []).append(n)
    existing = _existing(batches, first)
    groups: list[_Group] = []
    by_record: dict[int, _Group] = {}  # groups that match one record are one
    for numbers in members.values():
        group_items = [items[n] for n in numbers]
        keys = [key for n in numbers for key in keys_of[n] if key in existing]
        found = [existing[k] for name in DUPLICATE_KEYS for k in keys if k[0] == name]
        if found and found[0] in by_record:
            by_record[found[0]].items.extend(group_items)
            continue
        groups.append(_Group(group_items, found[0] if found else None))
        if found:
            by_record[found[0]] = groups[-1]
    for group in by_record.values():
        group.items.sort(key=lambda item: item.number)
    return groups


def _existing(batches: ClientBatches, keys: Iterable[tuple[str, str]]) -> dict:
    """{(key, value): id of the record in the database that has it} (the oldest)."""
    wanted: dict[str, set[str]] = {name: set() for name in DUPLICATE_KEYS}
    for name, value in keys:
        wanted[name].add(value)
    found: dict[tuple[str, str], int] = {}
    if wanted["external_id"]:
        rows = batches.model.objects.filter(external_id__in=wanted["external_id"])
        for value, pk in rows.order_by("pk").values_list("external_id", "pk"):
            found.setdefault(("external_id", value), pk)
    # Straight SQL on the (kind, value) index: the ORM's preparing of a thousand values
    # for IN cost more than the query. PostgreSQL takes them as one array: psycopg's
    # splitting of a query with thousands of placeholders cost more than the query too.
    quote = connection.ops.quote_name
    owner = quote(f"{batches.kind}_id")
    table = quote(ContactPoint._meta.db_table)
    with connection.cursor() as cursor:
        for name in ("email", "phone"):
            values = sorted(wanted[name])
            for start in range(0, len(values), IN_CHUNK):
                chunk = values[start : start + IN_CHUNK]
                if connection.vendor == "postgresql":
                    among, params = "= ANY(%s)", [name, chunk]
                else:
                    among, params = f"IN ({', '.join(['%s'] * len(chunk))})", [name, *chunk]
                cursor.execute(
                    f"SELECT value, {owner} FROM {table} WHERE kind = %s "  # noqa: S608
                    f"AND value {among} AND {owner} IS NOT NULL ORDER BY {owner}",
                    params,
                )
                for value, pk in cursor.fetchall():
                    found.setdefault((name, value), pk)
    return found


def _folded(group: _Group) -> dict[str, Any]:
    """A group's items as one: later values fill in and win, phones, e-mails and tags
    add up, the first note stays."""
    if len(group.items) == 1:  # most are: the same without the folding
        item = group.items[0]
        return {"values": {k: v for k, v in item.values.items() if v not in ("", None)},
                "phones": list(dict.fromkeys(item.phones)),
                "typed": list(dict.fromkeys(item.typed_phones)),
                "emails": list(dict.fromkeys(item.emails)), "tags": list(dict.fromkeys(item.tags)),
                "custom": item.custom, "note": item.note}  # fmt: skip
    values: dict[str, Any] = {}
    phones: dict[str, None] = {}
    typed: dict[str, None] = {}
    emails: dict[str, None] = {}
    tags: dict[str, None] = {}
    custom: dict[str, Any] = {}
    note = ""
    for item in group.items:
        values.update((k, v) for k, v in item.values.items() if v not in ("", None))
        phones.update(dict.fromkeys(item.phones))
        typed.update(dict.fromkeys(item.typed_phones))
        emails.update(dict.fromkeys(item.emails))
        tags.update(dict.fromkeys(item.tags))
        custom.update(item.custom)
        note = note or item.note
    return {"values": values, "phones": list(phones), "typed": list(typed),
            "emails": list(emails), "tags": list(tags), "custom": custom,
            "note": note}  # fmt: skip


# --- new records ---------------------------------------------------------------------


def _create(batches: ClientBatches, groups: list[_Group], now, outcome: Outcome) -> None:
    """The batch's new records, written in bulk with ids taken up front, so their
    contact points, tags, search entries and timeline go in the same statements."""
    if not groups:
        return
    kind, people = batches.kind, batches.model is Person
    ids = take_ids(batches.model, len(groups))
    folded = [_folded(group) for group in groups]
    companies = (
        _companies_named(batches, [f["values"]["company"] for f in folded
                                   if f["values"].get("company")], now)
        if people else {}
    )  # fmt: skip
    records, bodies, points, tag_links, notes = [], [], [], [], []
    for group, merged, pk in zip(groups, folded, ids, strict=True):
        values = merged["values"]
        owner_id = values.get("owner_id") or (None if batches.team else batches.actor.pk)
        record = {k: v for k, v in values.items() if k not in NOT_WRITTEN}
        record.update(
            id=pk,
            owner_id=owner_id,
            created_by_id=batches.actor.pk,
            created_at=now,
            updated_at=now,
            custom_fields=merged["custom"],
            primary_phone=merged["phones"][0] if merged["phones"] else "",
            primary_email=merged["emails"][0] if merged["emails"] else "",
        )
        company = values.get("company") if people else None
        if people:
            record["company_id"] = companies.get(company.lower()) if company else None
        single = len(group.items) == 1
        name = group.items[0].name if single else _name(batches, values)
        if people:
            record["full_name"] = name
        records.append(record)
        search = group.items[0].search if single else _search(merged, name, company)
        bodies.append((pk, search))
        points.extend(_point_rows(pk, _listed(merged), set(merged["typed"])))
        tag_links.extend((pk, _tag_id(batches, t)) for t in merged["tags"])
        if merged["note"]:
            notes.append((pk, merged["note"]))
        outcome.changes.append({"action": "created", "record_id": pk, "row": group.number,
                                "version": 1})  # fmt: skip
    batches.tables[batches.model].write(records)
    write_points(batches, points)
    batches.tables[batches.model.tags.through].write_columns([f"{kind}_id", "tag_id"], tag_links)
    _timeline_created(batches, batches.model, ids, notes, now)
    index_new_records(kind, bodies)
    handed = [record["id"] for record in records if record["owner_id"] is None]
    for pk in handed:  # the team's lead rule picks their owners
        _distribute(batches, pk)
    if handed:  # an assignment moves the version on: the undo log must know it
        versions = dict(Person.objects.filter(pk__in=handed).values_list("pk", "version"))
        for change in outcome.changes[-len(groups) :]:
            change["version"] = versions.get(change["record_id"], change["version"])
    emit_many(f"{kind}.created", [{f"{kind}_id": pk, "actor_id": batches.actor.pk} for pk in ids])


def _name(batches: ClientBatches, values: dict) -> str:
    if batches.model is Person:
        return compose_full_name(
            *(values.get(part, "") for part in ("first_name", "middle_name", "last_name"))
        )
    return values.get("name", "")


def _listed(merged: dict) -> list[tuple[str, str]]:
    """A record's contact points in their order: phones, those kept as typed, e-mails."""
    phones = [*merged["phones"], *merged["typed"]]
    return [("phone", p) for p in phones] + [("email", e) for e in merged["emails"]]


def _search(merged: dict, name: str, company: str | None) -> list[str]:
    points = _listed(merged)
    return search_parts(name, merged["values"].get("city", ""), points, merged["tags"],
                        company or "")  # fmt: skip


def _point_rows(pk: int, listed: list[tuple[str, str]], typed: set[str], start: int = 0) -> list:
    return [
        (pk, kind, value, start + n, kind == "phone" and value in typed)
        for n, (kind, value) in enumerate(dict.fromkeys(listed))
    ]


def write_points(batches: ClientBatches, rows: list[tuple]) -> None:
    """Every contact point a batch writes, new records' and added ones: (record id, kind,
    value, position, not a valid number). The one place a batch writes them."""
    names = [f"{batches.kind}_id", "kind", "value", "position", "not_valid"]
    batches.tables[ContactPoint].write_columns(names, rows)


def _tag_id(batches: ClientBatches, name: str) -> int:
    if name not in batches.tags:
        batches.tags[name] = tag_named(name).pk
    return batches.tags[name]


def _content_type(batches: ClientBatches, model) -> int:
    if model not in batches.content_types:
        batches.content_types[model] = ContentType.objects.get_for_model(model).pk
    return batches.content_types[model]


def _timeline_created(batches: ClientBatches, model, ids: list[int], notes, now) -> None:
    """A "created" entry for each new record (and its note, if any)."""
    entry = (_content_type(batches, model), batches.actor.pk, now)
    batches.tables[TimelineEvent].write_columns(
        ["subject_type_id", "actor_id", "occurred_at", "subject_id", "kind", "data"],
        [
            *((*entry, pk, "created", batches.origin) for pk in ids),
            *((*entry, pk, "note", {"text": text}) for pk, text in notes),
        ],
    )


def _companies_named(batches: ClientBatches, names: list[str], now) -> dict[str, int]:
    """{name in lower case: id} of the companies people work at; the ones not in Accord
    yet are created (with their events) and remembered for the caller's next batches."""
    wanted = {name.lower(): name for name in names if name.lower() not in batches.companies}
    if not wanted:
        return batches.companies
    found = Company.objects.annotate(key=Lower("name")).filter(
        Q(name__in=wanted.values()) | Q(key__in=wanted)
    )
    for pk, name in found.order_by("pk").values_list("pk", "name"):
        batches.companies.setdefault(name.lower(), pk)
    missing = [name for key, name in wanted.items() if key not in batches.companies]
    ids = take_ids(Company, len(missing))
    made = list(zip(ids, missing, strict=True))
    batches.tables[Company].write(
        {"id": pk, "name": name, "owner_id": batches.actor.pk, "created_by_id": batches.actor.pk,
         "created_at": now, "updated_at": now}
        for pk, name in made
    )  # fmt: skip
    index_new_records("company", [(pk, search_parts(n, "", [], [], "")) for pk, n in made])
    _timeline_created(batches, Company, ids, [], now)
    batches.companies.update((name.lower(), pk) for pk, name in made)
    emit_many("company.created", [{"company_id": pk, "actor_id": batches.actor.pk} for pk in ids])
    return batches.companies


def _distribute(batches: ClientBatches, person_id: int) -> None:
    hand_over_lead(person=Person(pk=person_id), team=batches.team)


# --- records that exist ----------------------------------------------------------------


def _update_all(batches: ClientBatches, groups: list[_Group], now, outcome: Outcome) -> None:
    """Update the records the groups match: read at once (plain values, no instances), so
    a group that brings nothing new (a file imported again) costs no query of its own
    and changes nothing."""
    if not groups:
        return
    model, kind = batches.model, batches.kind
    ids = [group.record_id for group in groups]
    # Only the columns the groups bring values for: converting the others (the moments
    # above all) was most of the reading.
    named = {k for group in groups for item in group.items for k in item.values}
    columns = ["id", "owner_id", "custom_fields", *sorted(named - {"id", "owner_id", *NOT_WRITTEN})]
    related = ["owner__team_id", *(["company__name"] if model is Person else [])]
    records = {
        row["id"]: row for row in model.objects.filter(pk__in=ids).values(*columns, *related)
    }
    points: dict[int, set] = {pk: set() for pk in ids}
    for pk, point_kind, value in ContactPoint.objects.filter(**{f"{kind}_id__in": ids}).values_list(
        f"{kind}_id", "kind", "value"
    ):
        points[pk].add((point_kind, value))
    tags: dict[int, set] = {pk: set() for pk in ids}
    links = model.tags.through.objects.filter(**{f"{kind}_id__in": ids})
    for pk, name in links.values_list(f"{kind}_id", "tag__name"):
        tags[pk].add(name.lower())
    for group in groups:
        record = records.get(group.record_id)
        if record is not None and allows(
            batches.actor, record_type=RECORD_TYPE, action=WRITE,
            owner_id=record["owner_id"], owner_team_id=record["owner__team_id"],
        ):  # fmt: skip
            merged = _folded(group)
            if not _differs(record, merged, points[record["id"]], tags[record["id"]]):
                outcome.counts["skipped"] += len(group.items)
                continue
        _update(batches, group, now, outcome)


def _differs(record: dict, merged: dict, points: set, tags: set) -> bool:
    """Whether the group's values would change the record (it never erases)."""
    values = merged["values"]
    if any(record[k] != v for k, v in values.items() if k not in NOT_WRITTEN):
        return True
    company = values.get("company") if "company__name" in record else None
    if company and (record["company__name"] or "").lower() != company.lower():
        return True
    if {**record["custom_fields"], **merged["custom"]} != record["custom_fields"]:
        return True
    return any(point not in points for point in _listed(merged)) or any(
        tag.lower() not in tags for tag in merged["tags"]
    )


def _update(batches: ClientBatches, group: _Group, now, outcome: Outcome) -> None:
    """Fill an existing record in with the group's values (nothing is erased): its undo
    entry, its timeline entry and its event — or nothing at all when nothing differs."""
    model, kind = batches.model, batches.kind
    record = model.objects.select_for_update().filter(pk=group.record_id).first()
    if record is None:
        outcome.counts["skipped"] += len(group.items)
        return
    if not can_change(batches.actor, record):
        reason = _("A client with this e-mail, phone or external id exists and is not yours "
                   "to change.")  # fmt: skip
        outcome.refused.update((item.number, reason) for item in group.items)
        return
    merged = _folded(group)
    before = snapshot(record)
    state: dict[str, Any] = {"values": {}, "custom_fields": dict(record.custom_fields)}
    changed = False
    for name, value in merged["values"].items():
        if name not in NOT_WRITTEN and getattr(record, name) != value:
            state["values"][name] = _plain(getattr(record, name))
            setattr(record, name, value)
            changed = True
    company = merged["values"].get("company") if model is Person else None
    if company:
        company_id = _companies_named(batches, [company], now)[company.lower()]
        if record.company_id != company_id:
            state["values"]["company_id"] = record.company_id
            record.company_id = company_id
            changed = True
    custom = {**record.custom_fields, **merged["custom"]}
    if custom != record.custom_fields:
        record.custom_fields, changed = custom, True
    have = [(p.kind, p.value) for p in record.contact_points.all()]
    added = [point for point in dict.fromkeys(_listed(merged)) if point not in have]
    tags = {tag.name.lower() for tag in record.tags.all()}
    new_tags = [t for t in merged["tags"] if t.lower() not in tags]
    if not (changed or added or new_tags):
        outcome.counts["skipped"] += len(group.items)
        return
    if model is Person:
        record.compose_full_name()
    record.version += 1
    record.updated_at = now
    record.save()
    if added:
        write_points(batches, _point_rows(record.pk, added, set(merged["typed"]), len(have)))
        state["points"] = [list(point) for point in added]
    if new_tags:
        record.tags.add(*[_tag_id(batches, t) for t in new_tags])
        state["tags"] = new_tags
    refresh_primary(record)
    record = model.objects.get(pk=record.pk)  # fresh relations for the comparison
    after = snapshot(record)
    changes = field_changes(before, after, sorted(set(before) | set(after)))
    timeline_record(subject=record, kind="changed", actor=batches.actor, occurred_at=now,
                    data={"changes": changes, **batches.origin})  # fmt: skip
    reindex(record)
    emit(
        f"{kind}.updated",
        **{f"{kind}_id": record.pk, "actor_id": batches.actor.pk,
           "fields": [c["field"] for c in changes], "changes": changes},
    )  # fmt: skip
    _count(outcome, group, "updated", "updated")
    outcome.changes.append({"action": "updated", "record_id": record.pk, "row": group.number,
                            "version": record.version, "before": state})  # fmt: skip


def _plain(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
