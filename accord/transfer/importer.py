"""Writing an import's cleaned rows (`cleaning.py` makes them): duplicates found in the
database and earlier in the file, new records written in bulk with ids taken up front
(their contact points, tags, search entries, timeline and undo log in the same batch),
and each batch in one transaction with the job's checkpoint, so a batch is either
wholly saved and counted or not at all."""

import datetime

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.contacts.models import Company, ContactPoint, Person, Tag
from accord.contacts.services import can_change, refresh_primary, reindex, search_parts
from accord.core.bulk import Table, take_ids
from accord.core.custom_fields import active_fields
from accord.core.models import TimelineEvent
from accord.core.search import index_new_records
from accord.transfer.cleaning import Cleaner, Row
from accord.transfer.mapping import targets_for
from accord.transfer.models import ImportChange, ImportFailure, ImportJob, ImportWarning


class Importer:
    """Writes one job's cleaned rows, a batch at a time (its `cleaner` cleans them)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.actor = job.created_by
        self.people = job.record_type == "people"
        self.model = Person if self.people else Company
        self.kind = "person" if self.people else "company"
        self.cleaner = Cleaner.for_job(job)
        self.clean = self.cleaner.clean
        self.companies: dict[str, int] = {}  # name (lower case) -> id, for people's companies
        self.seen: dict[tuple[str, str], int] = {}  # (key, value) -> record made by this job
        self.tags: dict[str, int] = {}
        # The rows nothing refers to by id are written in bulk (executemany / COPY).
        self.tables = {
            model: Table(model, with_id=False)
            for model in (ContactPoint, TimelineEvent, ImportChange, self.model.tags.through)
        }
        self.tables[self.model] = Table(self.model)
        self.labels = {
            t.name: str(t.label) for t in targets_for(job.record_type, active_fields(self.kind))
        }
        self.labels.update({"record": str(_("Client"))})

    # --- a batch --------------------------------------------------------------------

    def write(self, rows: list[Row], checkpoint: int) -> None:
        """Save a batch of cleaned rows and move the job's checkpoint past them, at once."""
        now = timezone.now()
        counts = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
        failures = [r for r in rows if r.problems]
        good = [r for r in rows if not r.problems]
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # A batch lost in a crash goes with its checkpoint, so the resumed import
                # writes it again: its commit need not wait for the disk.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
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
                    if isinstance(outcome, dict):
                        changes.append(outcome)
                        counts["updated"] += 1
                    elif outcome is None:
                        counts["skipped"] += 1  # already as the file says
                    else:
                        row.problems["record"] = outcome
                        failures.append(row)
            changes.extend(self._create(new, now))
            counts["created"] += len(new)
            self.tables[ImportChange].write_columns(
                ["job_id", "action", "record_id", "row", "version", "before"],
                [(self.job.pk, c["action"], c["record_id"], c["row"], c["version"],
                  c.get("before")) for c in changes],
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
            self._warn([r for r in rows if r.warnings and not r.problems])
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

    def _create(self, rows: list[Row], now) -> list[dict]:
        """The batch's new records, written in bulk with ids taken up front, so their
        contact points, tags, search entries and timeline go in the same batch."""
        if not rows:
            return []
        ids = take_ids(self.model, len(rows))
        companies = self._companies(rows) if self.people else {}
        records = []
        for row, pk in zip(rows, ids, strict=True):
            values = row.values
            record = {k: v for k, v in values.items() if k not in ("company", "note")}
            record.update(
                id=pk,
                owner_id=values.get("owner_id") or self.actor.pk,
                created_by_id=self.actor.pk,
                created_at=now,
                updated_at=now,
                custom_fields=row.custom,
                primary_phone=row.phones[0] if row.phones else "",
                primary_email=row.emails[0] if row.emails else "",
            )
            if self.people:
                record["full_name"] = row.name
                company = values.get("company")
                record["company_id"] = companies.get(company.lower()) if company else None
            records.append(record)
        self.tables[self.model].write(records)
        for row, pk in zip(rows, ids, strict=True):
            for key, values in row.keys.items():
                for value in values:
                    if self.seen.get((key, value)) == -row.number:
                        self.seen[(key, value)] = pk
        self._points(zip(rows, ids, strict=True))
        self._tag(zip(rows, ids, strict=True))
        self._timeline(ids, rows, now)
        index_new_records(self.kind, [(pk, row.search) for row, pk in zip(rows, ids, strict=True)])
        return [
            {"action": ImportChange.CREATED, "record_id": pk, "row": row.number, "version": 1}
            for row, pk in zip(rows, ids, strict=True)
        ]

    def _update(self, record_id: int, row: Row, now) -> dict | str | None:
        """Write the row's non-empty values onto an existing record: the undo log's entry
        (with what it held before), None when nothing differs, or why it may not be changed."""
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
            company_id = self._company(row.values["company"])
            if record.company_id != company_id:
                state["values"]["company_id"] = record.company_id
                record.company_id = company_id
                changed = True
        merged = {**record.custom_fields, **row.custom}
        if merged != record.custom_fields:
            record.custom_fields = merged
            changed = True
        have = set(record.contact_points.values_list("kind", "value"))
        points = [("phone", p) for p in [*row.phones, *row.typed_phones]]
        points += [("email", e) for e in row.emails]
        added = [p for p in dict.fromkeys(points) if p not in have]
        typed = set(row.typed_phones)
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
                    ContactPoint(
                        **{self.kind: record},
                        kind=kind,
                        value=value,
                        position=start + n,
                        not_valid=kind == "phone" and value in typed,
                    )
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
        return {
            "action": ImportChange.UPDATED,
            "record_id": record.pk,
            "row": row.number,
            "version": record.version,
            "before": state,
        }

    # --- helpers --------------------------------------------------------------------

    def _company(self, name: str) -> int:
        return self._companies_named([name])[name.lower()]

    def _companies(self, rows: list[Row]) -> dict[str, int]:
        """{name in lower case: id} of the companies the batch's people work at; the ones
        not in Accord yet are created (and remembered for the rest of the file)."""
        return self._companies_named([r.values["company"] for r in rows if "company" in r.values])

    def _companies_named(self, names: list[str]) -> dict[str, int]:
        wanted = {name.lower(): name for name in names if name.lower() not in self.companies}
        if not wanted:
            return self.companies
        found = Company.objects.annotate(key=Lower("name")).filter(
            Q(name__in=wanted.values()) | Q(key__in=wanted)
        )
        for pk, name in found.order_by("pk").values_list("pk", "name"):
            self.companies.setdefault(name.lower(), pk)
        missing = [name for key, name in wanted.items() if key not in self.companies]
        ids = take_ids(Company, len(missing))
        made, now = list(zip(ids, missing, strict=True)), timezone.now()
        self.tables.setdefault(Company, Table(Company)).write(
            {"id": pk, "name": name, "owner_id": self.actor.pk, "created_by_id": self.actor.pk,
             "created_at": now, "updated_at": now}
            for pk, name in made
        )  # fmt: skip
        index_new_records("company", [(pk, search_parts(n, "", [], [], "")) for pk, n in made])
        self._timeline(ids, [], now, model=Company)
        self.companies.update((name.lower(), pk) for pk, name in made)
        return self.companies

    def _tag_id(self, name: str) -> int:
        if name not in self.tags:
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
            self.tags[name] = tag.pk
        return self.tags[name]

    def _points(self, pairs) -> None:
        rows = []
        for row, pk in pairs:
            typed = [("phone", p) for p in row.typed_phones]  # not valid: kept as typed
            listed = [("phone", p) for p in row.phones] + typed
            listed += [("email", e) for e in row.emails]
            rows.extend(
                (pk, kind, value, position, (kind, value) in typed)
                for position, (kind, value) in enumerate(dict.fromkeys(listed))
            )
        names = [f"{self.kind}_id", "kind", "value", "position", "not_valid"]
        self.tables[ContactPoint].write_columns(names, rows)

    def _warn(self, rows: list[Row]) -> None:
        """The report's warnings: what a row kept as typed (a phone not valid in its country)."""
        header = self.job.header
        ImportWarning.objects.bulk_create(
            ImportWarning(job=self.job, row=row.number, column=header[column][:255]
                          if column < len(header) else str(column + 1),
                          value=value[:255], message=message)
            for row in rows for column, value, message in row.warnings
        )  # fmt: skip

    def _tag(self, pairs) -> None:
        self.tables[self.model.tags.through].write_columns(
            [f"{self.kind}_id", "tag_id"],
            [(pk, self._tag_id(name)) for row, pk in pairs for name in dict.fromkeys(row.tags)],
        )

    def _timeline(self, ids: list[int], rows: list[Row], now, model=None) -> None:
        """A "created" entry for each new record (with the row's note, if any)."""
        content_type = self._content_type(model or self.model)
        entry = (content_type, self.actor.pk, now)
        created = {"import_id": self.job.pk, "file": self.job.file_name}
        self.tables[TimelineEvent].write_columns(
            ["subject_type_id", "actor_id", "occurred_at", "subject_id", "kind", "data"],
            [
                *((*entry, pk, "created", created) for pk in ids),
                *((*entry, pk, "note", {"text": row.note})
                  for pk, row in zip(ids, rows, strict=False) if row.note),
            ],
        )  # fmt: skip

    def _content_type(self, model=None) -> int:
        from django.contrib.contenttypes.models import ContentType

        return ContentType.objects.get_for_model(model or self.model).pk


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
