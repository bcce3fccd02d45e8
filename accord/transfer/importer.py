"""The rows of an import: each row checked and turned into a record's values (or a reason
it cannot be), duplicates found in the database and earlier in the file, and a batch of
rows written in one transaction with the job's checkpoint, so a batch is either wholly
saved and counted or not at all."""

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import Company, ContactPoint, Person, Tag
from accord.contacts.services import can_change, refresh_primary, reindex, search_parts
from accord.core.bulk import Table
from accord.core.custom_fields import active_fields, clean_value
from accord.core.models import TimelineEvent
from accord.core.phones import PhoneError, normalize_phone
from accord.core.search import index_new_records
from accord.transfer.exporting import FORMULA_STARTS
from accord.transfer.mapping import targets_for
from accord.transfer.models import ImportChange, ImportFailure, ImportJob

SPLIT = re.compile(r"\s*[,;\n]\s*")
KINDS = {
    "people": {"lead": "lead", "лид": "lead", "client": "client", "customer": "client",
               "клиент": "client", "покупатель": "client"},
    "companies": {"client": "client", "клиент": "client", "supplier": "supplier",
                  "поставщик": "supplier", "partner": "partner", "партнер": "partner",
                  "партнёр": "partner"},
}  # fmt: skip
GENDERS = {"female": "female", "f": "female", "woman": "female", "ж": "female",
           "жен": "female", "женский": "female", "male": "male", "m": "male", "man": "male",
           "м": "male", "муж": "male", "мужской": "male", "other": "other"}  # fmt: skip
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%y"]
TEXT_LIMITS = {"first_name": 100, "last_name": 100, "middle_name": 100, "city": 100,
               "source": 100, "address": 1000, "external_id": 100, "website": 200,
               "name": 200, "company": 200, "note": 10_000}  # fmt: skip


@dataclass
class Row:
    """One row of the file made into a record's values."""

    number: int  # the row's number in the file (the header is row 1)
    raw: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    problems: dict[str, str] = field(default_factory=dict)  # target -> what is wrong

    @property
    def keys(self) -> dict[str, list[str]]:
        return {
            "email": self.emails,
            "phone": self.phones,
            "external_id": [self.values["external_id"]] if self.values.get("external_id") else [],
        }


class Importer:
    """Reads rows for one job: `clean` a row, `write` a batch."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.actor = job.created_by
        self.people = job.record_type == "people"
        self.model = Person if self.people else Company
        self.kind = "person" if self.people else "company"
        self.mapping = {int(column): target for column, target in job.mapping.items()}
        self.fields = {f.key: f for f in active_fields(self.kind)}
        self.owners = {
            email.lower(): pk
            for email, pk in User.objects.filter(is_active=True).values_list("email", "pk")
        }
        self.companies: dict[str, int] = {}  # name (lower case) -> id, for people's companies
        self.seen: dict[tuple[str, str], int] = {}  # (key, value) -> record made by this job
        self.tags: dict[str, int] = {}
        # The rows nothing refers to by id are written in bulk (executemany / COPY).
        self.tables = {
            model: Table(model, with_id=False)
            for model in (ContactPoint, TimelineEvent, ImportChange, self.model.tags.through)
        }
        self.labels = {
            t.name: str(t.label) for t in targets_for(job.record_type, self.fields.values())
        }
        self.labels.update({"record": str(_("Client"))})

    # --- one row --------------------------------------------------------------------

    def clean(self, number: int, raw: list[str]) -> Row:
        row = Row(number=number, raw=raw)
        for column, target in self.mapping.items():
            text = raw[column].strip() if column < len(raw) else ""
            if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
                text = text[1:]  # an export's guard against spreadsheet formulas
            if not text:
                continue
            try:
                self._take(row, target, text)
            except ValueError as error:
                row.problems.setdefault(target, str(error))
        if self.people:
            if not any(row.values.get(n) for n in ("first_name", "last_name", "middle_name")):
                named = "full_name" if "full_name" in self.mapping.values() else "first_name"
                row.problems.setdefault(named, _("The row has no name."))
        elif not row.values.get("name"):
            row.problems.setdefault("name", _("The row has no name."))
        return row

    def _take(self, row: Row, target: str, text: str) -> None:
        if target in TEXT_LIMITS and len(text) > TEXT_LIMITS[target]:
            raise ValueError(_("At most %(limit)s characters.") % {"limit": TEXT_LIMITS[target]})
        if target == "full_name":
            if len(text) > 300:
                raise ValueError(_("At most %(limit)s characters.") % {"limit": 300})
            row.values["first_name"] = text  # shown whole; people's names differ in order
        elif target == "phone":
            for part in SPLIT.split(text):
                if part:
                    try:
                        row.phones.append(normalize_phone(part))
                    except PhoneError as error:
                        raise ValueError(str(error)) from None
        elif target == "email":
            for part in SPLIT.split(text):
                if part:
                    address = part.lower()
                    try:
                        validate_email(address)
                    except ValidationError:
                        raise ValueError(
                            _("“%(value)s” is not an e-mail address.") % {"value": part}
                        ) from None
                    row.emails.append(address)
        elif target == "tags":
            row.tags.extend(t[:50] for t in SPLIT.split(text) if t)
        elif target == "kind":
            kind = KINDS[self.job.record_type].get(text.lower())
            if kind is None:
                choices = sorted({v for v in KINDS[self.job.record_type].values()})
                raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
            row.values["kind"] = kind
        elif target == "owner":
            owner = self.owners.get(text.lower())
            if owner is None:
                raise ValueError(_("No active user has the e-mail %(email)s.") % {"email": text})
            row.values["owner_id"] = owner
        elif target == "country":
            if not re.fullmatch(r"[A-Za-z]{2}", text):
                raise ValueError(_("Give the country as a two-letter code: DE, IL, AM, RU…"))
            row.values["country"] = text.upper()
        elif target == "birthday":
            row.values["birthday"] = parse_date(text)
        elif target == "gender":
            gender = GENDERS.get(text.lower())
            if gender is None:
                raise ValueError(_("Give the gender as female, male or other."))
            row.values["gender"] = gender
        elif target == "note":
            row.note = text
        elif target.startswith("cf."):
            definition = self.fields.get(target[3:])
            if definition is None:
                raise ValueError(_("There is no custom field %(key)s.") % {"key": target[3:]})
            value: Any = SPLIT.split(text) if definition.type == "multi_choice" else text
            row.custom[definition.key] = clean_value(definition, value)
        else:
            row.values[target] = text

    # --- a batch --------------------------------------------------------------------

    def write(self, rows: list[Row], checkpoint: int) -> None:
        """Save a batch of cleaned rows and move the job's checkpoint past them, at once."""
        now = timezone.now()
        counts = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
        failures = [r for r in rows if r.problems]
        good = [r for r in rows if not r.problems]
        with transaction.atomic():
            matches = self._matches(good)
            new, changes = [], []
            for row in good:
                found = matches.get(row.number)
                if found is None or self.job.on_duplicate == ImportJob.CREATE:
                    new.append(row)
                elif self.job.on_duplicate == ImportJob.SKIP:
                    counts["skipped"] += 1
                else:
                    outcome = self._update(found, row, now)
                    if isinstance(outcome, ImportChange):
                        changes.append(outcome)
                        counts["updated"] += 1
                    elif outcome is None:
                        counts["skipped"] += 1  # already as the file says
                    else:
                        row.problems["record"] = outcome
                        failures.append(row)
            changes.extend(self._create(new, now))
            counts["created"] += len(new)
            self.tables[ImportChange].write(
                {"job_id": self.job.pk, "action": c.action, "record_id": c.record_id,
                 "row": c.row, "version": c.version, "before": c.before}
                for c in changes
            )  # fmt: skip
            ImportFailure.objects.bulk_create(
                [
                    ImportFailure(
                        job=self.job,
                        row=r.number,
                        values=r.raw,
                        reason=describe(r.problems, self.labels),
                    )
                    for r in failures
                ]
            )
            counts["failed"] = len(failures)
            # What this batch made is in the database now, where the next batch's lookup
            # finds it: the memory of the file's rows stays one batch long.
            self.seen.clear()
            ImportJob.objects.filter(pk=self.job.pk).update(
                rows_done=checkpoint,
                beat_at=now,
                **{name: F(name) + n for name, n in counts.items()},
            )

    def _matches(self, rows: list[Row]) -> dict[int, int]:
        """{row number: id of the record it duplicates}, in the database or earlier in
        this file, by the job's rule."""
        key = self.job.match_by
        if not key:
            return {}
        wanted = {value for row in rows for value in row.keys[key]}
        existing: dict[str, int] = {}
        if wanted and key == "external_id":
            existing = dict(
                self.model.objects.filter(external_id__in=wanted).values_list("external_id", "pk")
            )
        elif wanted:
            owner = f"{self.kind}_id"
            existing = dict(
                ContactPoint.objects.filter(
                    kind=key, value__in=wanted, **{f"{owner}__isnull": False}
                ).values_list("value", owner)
            )
        found = {}
        for row in rows:
            for value in row.keys[key]:
                record = existing.get(value) or self.seen.get((key, value))
                if record:
                    found[row.number] = record
                    break
            else:
                for value in row.keys[key]:  # later rows of the file find this one
                    self.seen[(key, value)] = -row.number  # the id comes once it is saved
        return found

    def _create(self, rows: list[Row], now) -> list[ImportChange]:
        if not rows:
            return []
        records = []
        for row in rows:
            values = {
                k: v for k, v in row.values.items() if k not in ("company", "note", "owner_id")
            }
            record = self.model(
                **values,
                created_by=self.actor,
                owner_id=row.values.get("owner_id") or self.actor.pk,
                custom_fields=row.custom,
                primary_phone=row.phones[0] if row.phones else "",
                primary_email=row.emails[0] if row.emails else "",
            )
            if self.people:
                record.full_name = " ".join(
                    p for p in (record.first_name, record.middle_name, record.last_name) if p
                )
                if row.values.get("company"):
                    record.company_id = self._company(row.values["company"], now)
            records.append(record)
        self.model.objects.bulk_create(records)
        for row, record in zip(rows, records, strict=True):
            for key, values in row.keys.items():
                for value in values:
                    if self.seen.get((key, value)) == -row.number:
                        self.seen[(key, value)] = record.pk
        self._points(zip(rows, records, strict=True))
        self._tag(zip(rows, records, strict=True))
        self._timeline(records, rows, now)
        index_new_records(
            self.kind,
            [
                (
                    record.pk,
                    search_parts(
                        record,
                        [("phone", p) for p in row.phones] + [("email", e) for e in row.emails],
                        list(dict.fromkeys(row.tags)),
                        row.values.get("company", "") if self.people else "",
                    ),
                )
                for row, record in zip(rows, records, strict=True)
            ],
        )
        return [
            ImportChange(
                job=self.job, action=ImportChange.CREATED, record_id=r.pk, row=row.number, version=1
            )
            for row, r in zip(rows, records, strict=True)
        ]

    def _update(self, record_id: int, row: Row, now) -> ImportChange | str | None:
        """Write the row's non-empty values onto an existing record: an ImportChange with
        what it held before, None when nothing differs, or why it may not be changed."""
        from accord.contacts.services import snapshot

        record = self.model.objects.select_for_update().filter(pk=record_id).first()
        if record is None:  # made earlier in this batch: a duplicate row of the file
            return None
        if not can_change(self.actor, record):
            return _("A client with this %(key)s exists and is not yours to change.") % {
                "key": dict(ImportJob.MATCH_BY)[self.job.match_by].lower()
            }
        before = snapshot(record)
        state = {"values": {}, "custom_fields": dict(record.custom_fields)}
        changed = False
        for name, value in row.values.items():
            if name in ("company", "note"):
                continue
            if getattr(record, name) != value:
                state["values"][name] = _plain(getattr(record, name))
                setattr(record, name, value)
                changed = True
        if self.people and row.values.get("company"):
            company_id = self._company(row.values["company"], now)
            if record.company_id != company_id:
                state["values"]["company_id"] = record.company_id
                record.company_id = company_id
                changed = True
        merged = {**record.custom_fields, **row.custom}
        if merged != record.custom_fields:
            record.custom_fields = merged
            changed = True
        have = set(record.contact_points.values_list("kind", "value"))
        points = [("phone", p) for p in row.phones] + [("email", e) for e in row.emails]
        added = [p for p in dict.fromkeys(points) if p not in have]
        tags_before = set(record.tags.values_list("name", flat=True))
        new_tags = [t for t in dict.fromkeys(row.tags) if t not in tags_before]
        if not changed and not added and not new_tags:
            return None
        if self.people:
            record.full_name = " ".join(
                p for p in (record.first_name, record.middle_name, record.last_name) if p
            )
        record.version += 1
        record.updated_at = now
        record.save()
        if added:
            start = len(have)
            ContactPoint.objects.bulk_create(
                [
                    ContactPoint(**{self.kind: record}, kind=kind, value=value, position=start + n)
                    for n, (kind, value) in enumerate(added)
                ]
            )
            state["points"] = [list(p) for p in added]
        if new_tags:
            record.tags.add(*[self._tag_id(t) for t in new_tags])
            state["tags"] = new_tags
        refresh_primary(record)
        from accord.core.timeline import field_changes

        after = snapshot(self.model.objects.get(pk=record.pk))
        timeline_changes = field_changes(before, after, sorted(set(before) | set(after)))
        TimelineEvent.objects.create(
            subject_type_id=self._content_type(),
            subject_id=record.pk,
            kind="changed",
            actor=self.actor,
            data={"changes": timeline_changes, "import_id": self.job.pk},
            occurred_at=now,
        )
        reindex(record)
        return ImportChange(
            job=self.job,
            action=ImportChange.UPDATED,
            record_id=record.pk,
            row=row.number,
            version=record.version,
            before=state,
        )

    # --- helpers --------------------------------------------------------------------

    def _company(self, name: str, now) -> int:
        key = name.lower()
        if key not in self.companies:
            found = Company.objects.filter(name__iexact=name).values_list("pk", flat=True).first()
            if found is None:
                company = Company.objects.create(name=name, owner=self.actor, created_by=self.actor)
                reindex(company)
                found = company.pk
            self.companies[key] = found
        return self.companies[key]

    def _tag_id(self, name: str) -> int:
        if name not in self.tags:
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
            self.tags[name] = tag.pk
        return self.tags[name]

    def _points(self, pairs) -> None:
        rows = []
        for row, record in pairs:
            listed = [("phone", p) for p in row.phones] + [("email", e) for e in row.emails]
            for position, (kind, value) in enumerate(dict.fromkeys(listed)):
                rows.append(
                    {f"{self.kind}_id": record.pk, "kind": kind, "value": value,
                     "position": position}
                )  # fmt: skip
        self.tables[ContactPoint].write(rows)

    def _tag(self, pairs) -> None:
        through = self.model.tags.through
        self.tables[through].write(
            {f"{self.kind}_id": record.pk, "tag_id": self._tag_id(name)}
            for row, record in pairs
            for name in dict.fromkeys(row.tags)
        )

    def _timeline(self, records, rows: list[Row], now) -> None:
        content_type = self._content_type()
        entry = {"subject_type_id": content_type, "actor_id": self.actor.pk, "occurred_at": now}
        created = {"import_id": self.job.pk, "file": self.job.file_name}
        self.tables[TimelineEvent].write(
            [
                *({**entry, "subject_id": r.pk, "kind": "created", "data": created}
                  for r in records),
                *({**entry, "subject_id": r.pk, "kind": "note", "data": {"text": row.note}}
                  for r, row in zip(records, rows, strict=True) if row.note),
            ]
        )  # fmt: skip

    def _content_type(self) -> int:
        from django.contrib.contenttypes.models import ContentType

        return ContentType.objects.get_for_model(self.model).pk


def parse_date(text: str) -> datetime.date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(_("Give the date as YYYY-MM-DD or DD.MM.YYYY."))


def describe(problems: dict[str, str], labels: dict[str, str] | None = None) -> str:
    """ "Phone: … E-mail: …", each problem after the name of its field."""
    labels = labels or {}
    return " ".join(
        f"{labels.get(target, target)}: {message}" for target, message in problems.items()
    )


def _plain(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
