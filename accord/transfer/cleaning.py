"""The rows of an import made into records' values, with no database: each cell checked
(a reason per cell when it is wrong), phones to E.164 in the row's country (a number not
valid there is kept as typed, with a warning), dates, e-mails, kinds, owners,
custom fields. A big file is cleaned in a process of its own while the importer writes
the batches before it, so the two run on two cores.

This module imports no model at its top: the cleaning process unpickles its state and
sets Django up before it cleans."""

import datetime
import logging
import multiprocessing
import os
import queue as queues
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _

from accord.core.phones import PhoneError, country_code, default_region, read_phone
from accord.transfer.reading import FileProblem, Table, read_rows

log = logging.getLogger(__name__)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run
# A file this long is cleaned in a process of its own. Starting one (a new interpreter
# that sets Django up) cost more than it saved for the 20,000 rows of bench.realistic:
# 14–18 s in-process against 36–42 s with it on a loaded machine.
PARALLEL_ROWS = 40_000
QUEUED_BATCHES = 4  # cleaned batches waiting for the writer: memory stays flat

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
ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
DOTTED_DATE = re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})")
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%y"]
TEXT_LIMITS = {"first_name": 100, "last_name": 100, "middle_name": 100, "city": 100,
               "source": 100, "address": 1000, "external_id": 100, "website": 200,
               "name": 200, "company": 200, "note": 10_000}  # fmt: skip
PLAIN_TEXT = set(TEXT_LIMITS) - {"note"}  # taken as they are, once within their limit


@dataclass
class Row:
    """One row of the file made into a record's values."""

    number: int  # the row's number in the file (the header is row 1)
    raw: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    phones: list[str] = field(default_factory=list)  # E.164
    typed_phones: list[str] = field(default_factory=list)  # not valid: kept as typed
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    problems: dict[str, str] = field(default_factory=dict)  # target -> what is wrong
    warnings: list[tuple[int, str, str]] = field(default_factory=list)  # (column, value, why)
    region: str = ""  # the country the row's phone numbers are read in
    name: str = ""  # as lists show it
    search: list[str] = field(default_factory=list)  # what global search finds it by

    @property
    def keys(self) -> dict[str, list[str]]:
        return {
            "email": self.emails,
            "phone": self.phones,
            "external_id": [self.values["external_id"]] if self.values.get("external_id") else [],
        }


@dataclass
class FieldSpec:
    """What checking a custom field's value needs (a CustomField, as plain data)."""

    key: str
    type: str
    choices: list[str]


@dataclass
class Cleaner:
    """Cleans one job's rows: plain data, so a cleaning process can be given it."""

    record_type: str
    mapping: dict[int, str]  # column number -> target field
    owners: dict[str, int]  # active users' e-mails and names (lower case) -> id
    fields: dict[str, FieldSpec]  # custom fields by key
    region: str  # the import's phone region ("" for none)
    country_column: int | None = None  # a row naming its country has its numbers read there

    @classmethod
    def for_job(cls, job) -> "Cleaner":
        from accord.accounts.models import User
        from accord.core.custom_fields import active_fields

        kind = "person" if job.record_type == "people" else "company"
        return cls(
            record_type=job.record_type,
            mapping={int(column): target for column, target in job.mapping.items()},
            owners=owners_by_key(User.objects.filter(is_active=True).order_by("pk")),
            fields={
                f.key: FieldSpec(key=f.key, type=f.type, choices=list(f.choices or []))
                for f in active_fields(kind)
            },
            region=job.region or default_region() or "",
            country_column=next(
                (int(c) for c, target in job.mapping.items() if target == "country"), None
            ),
        )

    def clean(self, number: int, raw: list[str]) -> Row:
        row = Row(number=number, raw=raw, region=self.region)
        if self.country_column is not None and self.country_column < len(raw):
            row.region = country_code(raw[self.country_column]) or self.region
        for column, target in self.mapping.items():
            text = raw[column].strip() if column < len(raw) else ""
            if text[:1] == "'" and text[1:2] in FORMULA_STARTS:
                text = text[1:]  # an export's guard against spreadsheet formulas
            if not text:
                continue
            try:
                self._take(row, column, target, text)
            except ValueError as error:
                row.problems.setdefault(target, str(error))
        if self.record_type == "people":
            if not any(row.values.get(n) for n in ("first_name", "last_name", "middle_name")):
                named = "full_name" if "full_name" in self.mapping.values() else "first_name"
                row.problems.setdefault(named, _("The row has no name."))
        elif not row.values.get("name"):
            row.problems.setdefault("name", _("The row has no name."))
        if not row.problems:
            self._name_and_search(row)
        return row

    def _name_and_search(self, row: Row) -> None:
        """A new record's shown name and search body: worked out here, on the cleaning
        process's core, not the writer's."""
        from accord.contacts.models import compose_full_name
        from accord.contacts.services import search_parts

        values = row.values
        if self.record_type == "people":
            row.name = compose_full_name(
                *(values.get(p, "") for p in ("first_name", "middle_name", "last_name"))
            )
        else:
            row.name = values["name"]
        points = [("phone", p) for p in [*row.phones, *row.typed_phones]]
        points += [("email", e) for e in row.emails]
        company = values.get("company", "") if self.record_type == "people" else ""
        row.search = search_parts(
            row.name, values.get("city", ""), points, list(dict.fromkeys(row.tags)), company
        )

    def _take(self, row: Row, column: int, target: str, text: str) -> None:
        if target in TEXT_LIMITS and len(text) > TEXT_LIMITS[target]:
            raise ValueError(_("At most %(limit)s characters.") % {"limit": TEXT_LIMITS[target]})
        if target in PLAIN_TEXT:  # most of a row's cells: before the other targets' tests
            row.values[target] = text
        elif target == "full_name":
            if len(text) > 300:
                raise ValueError(_("At most %(limit)s characters.") % {"limit": 300})
            row.values["first_name"] = text  # shown whole; people's names differ in order
        elif target == "phone":
            for part in SPLIT.split(text):
                if part:
                    try:
                        number, why = read_phone(part, row.region or None)
                    except PhoneError as error:
                        raise ValueError(str(error)) from None
                    if why:
                        row.typed_phones.append(number)
                        row.warnings.append((column, number, why))
                    else:
                        row.phones.append(number)
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
            kind = KINDS[self.record_type].get(text.lower())
            if kind is None:
                choices = sorted({v for v in KINDS[self.record_type].values()})
                raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
            row.values["kind"] = kind
        elif target == "owner":
            owner = self.owners.get(" ".join(text.lower().split()))
            if owner is None:
                raise ValueError(_("No active user has the e-mail %(email)s.") % {"email": text})
            row.values["owner_id"] = owner
        elif target == "country":
            code = country_code(text)
            if code is None:
                raise ValueError(
                    _("Give the country as a two-letter code (DE, IL, AM, RU…) or its name.")
                )
            row.values["country"] = code
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
            from accord.core.custom_fields import clean_value

            value: Any = SPLIT.split(text) if definition.type == "multi_choice" else text
            row.custom[definition.key] = clean_value(definition, value)
        else:
            row.values[target] = text


def owners_by_key(users) -> dict[str, int]:
    """{e-mail or full name, lower case: id}: an owner column holds e-mails (Accord's own
    export) or names (Bitrix24's, amoCRM's, Pipedrive's)."""
    listed = list(users.values_list("email", "full_name", "pk"))
    owners = {email.lower(): pk for email, _name, pk in listed}
    for _email, name, pk in listed:
        if name.strip():
            owners.setdefault(" ".join(name.lower().split()), pk)
    return owners


def batches(
    job, cleaner: Cleaner, size: int, *, parallel: bool | None = None
) -> Iterator[tuple[list[Row], int]]:
    """The job's rows after its checkpoint, cleaned, a batch at a time, each with the
    checkpoint after it (the rows read so far). A long file is cleaned in a process of
    its own (`parallel`), while the caller writes."""
    path, table = Path(job.file.path), Table(kind=job.kind, encoding=job.encoding,
                                             delimiter=job.delimiter)  # fmt: skip
    if parallel is None:
        parallel = (job.rows_total or 0) - job.rows_done >= PARALLEL_ROWS
    if not parallel:
        yield from _batches(path, table, cleaner, job.rows_done, size)
        return
    yield from _batches_from_process(path, table, cleaner, job.rows_done, size)


def _batches(path: Path, table: Table, cleaner: Cleaner, skip: int, size: int):
    rows = read_rows(path, table)
    next(rows, None)  # the header
    batch, done = [], 0
    for number, raw in enumerate(rows, start=2):
        done += 1
        if done <= skip:
            continue  # saved before a restart
        batch.append(cleaner.clean(number, raw))
        if len(batch) == size:
            yield batch, done
            batch = []
    if batch:
        yield batch, done


def _batches_from_process(path: Path, table: Table, cleaner: Cleaner, skip: int, size: int):
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no shared sockets
    channel = context.Queue(maxsize=QUEUED_BATCHES)
    language = translation.get_language() or "en"
    process = context.Process(
        target=_clean_in_process,
        args=(str(path), table, cleaner, skip, size, language, channel),
        name="accord-import-cleaner",
        daemon=True,
    )
    process.start()
    try:
        while True:
            try:
                kind, payload = channel.get(timeout=5)
            except queues.Empty:
                if not process.is_alive():
                    raise RuntimeError(_("The import's reading process stopped.")) from None
                continue
            if kind == "batch":
                yield payload
            elif kind == "problem":
                raise FileProblem(payload)
            elif kind == "error":
                raise RuntimeError(payload)
            else:
                return
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        channel.close()


def _clean_in_process(path, table, cleaner, skip, size, language, channel) -> None:
    """The cleaning process: reads and cleans the file, putting batches on the channel.
    It ends as soon as the process that started it is gone (killed, say): a watchdog
    checks every second, since a blocked put or the queue's flush at exit would wait for
    a reader that is never coming."""

    django.setup()

    translation.activate(language)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    try:
        for batch in _batches(Path(path), table, cleaner, skip, size):
            channel.put(("batch", batch))
        channel.put(("end", None))
    except FileProblem as problem:
        channel.put(("problem", str(problem)))
    except Exception as error:  # the importer reports it; the traceback goes to the log
        log.exception("import cleaning failed")
        channel.put(("error", f"{type(error).__name__}: {error}"))


def parse_date(text: str) -> datetime.date:
    # The two usual forms without strptime (a million birthdays take seconds with it).
    if match := ISO_DATE.fullmatch(text) or DOTTED_DATE.fullmatch(text):
        try:
            return datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            raise ValueError(_("There is no such date.")) from None
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(_("Give the date as YYYY-MM-DD or DD.MM.YYYY."))
