"""The rows of an import made into records' values, with no database: each cell checked
(a reason per cell when it is wrong), phones to E.164 in the row's country (a number not
valid there is kept as typed, with a warning), dates, e-mails, kinds, owners,
custom fields. A file of several batches is cleaned in a thread while the importer writes
the batch before: the database's work (SQLite's C, PostgreSQL's server) lets it run.
Cleaning touches no database."""

import datetime
import functools
import queue as queues
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.validators import validate_email
from django.db import connections
from django.utils import translation
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.contacts.models import compose_full_name
from accord.contacts.services import search_parts
from accord.core.custom_fields import active_fields, clean_value
from accord.core.phones import PhoneError, country_code, default_region, read_phone
from accord.core.spreadsheets import FORMULA_STARTS
from accord.transfer.reading import Table, read_rows

# Cleaned rows waiting for the writer, at most (and a batch at least): memory stays flat
# whatever the batch's size. (A process of its own cleaned big files before: its
# interpreter with Django set up cost 106 MB of the 300 an import of a million rows may
# take, its start cost more than it saved below 40,000 rows, and every batch was pickled
# on one side and read on the other. A thread costs none of it.)
QUEUED_ROWS = 2000
HANDOVER_SECONDS = 0.0005  # how long a thread may keep the interpreter from the other

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
    """Cleans one job's rows: plain data (no model instance, no database)."""

    record_type: str
    mapping: dict[int, str]  # column number -> target field
    owners: dict[str, int]  # active users' e-mails and names (lower case) -> id
    fields: dict[str, FieldSpec]  # custom fields by key
    region: str  # the import's phone region ("" for none)
    country_column: int | None = None  # a row naming its country has its numbers read there

    @classmethod
    def for_job(cls, job) -> "Cleaner":

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
                    if not is_email(address):
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
            value: Any = SPLIT.split(text) if definition.type == "multi_choice" else text
            row.custom[definition.key] = clean_value(definition, value)
        else:
            row.values[target] = text


def is_email(address: str) -> bool:
    """Django's `validate_email`, answered without an exception for each address and with
    each domain checked once (a file's addresses share a few domains): the same test,
    a sixth of the cost of an import's row."""
    if not address or "@" not in address or len(address) > 320:
        return False
    user, domain = address.rsplit("@", 1)
    return bool(_email_user().match(user)) and _email_domain(domain)


@functools.cache
def _email_user() -> re.Pattern:
    lazy = validate_email.user_regex  # compiled on first use; its proxy costs a call each time
    return re.compile(lazy.pattern, lazy.flags)


@functools.lru_cache(maxsize=4096)
def _email_domain(domain: str) -> bool:
    return domain in validate_email.domain_allowlist or bool(
        validate_email.validate_domain_part(domain)
    )


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
    checkpoint after it (the rows read so far). A file of more than a batch is cleaned in a
    thread (`parallel`) while the caller writes the batch before: the database's own work
    (SQLite's, in C, or PostgreSQL's, in its server) lets the thread run meanwhile."""
    path, table = Path(job.file.path), Table(kind=job.kind, encoding=job.encoding,
                                             delimiter=job.delimiter)  # fmt: skip
    if parallel is None:
        parallel = (job.rows_total or 0) - job.rows_done > size
    if not parallel:
        yield from _batches(path, table, cleaner, job.rows_done, size)
        return
    yield from _batches_from_thread(path, table, cleaner, job.rows_done, size)


def _batches_from_thread(path: Path, table: Table, cleaner: Cleaner, skip: int, size: int):
    channel: queues.Queue = queues.Queue(maxsize=max(1, QUEUED_ROWS // size))
    language = translation.get_language() or "en"
    stop = threading.Event()  # the writer is gone (done, or failed): the thread ends

    def put(item) -> bool:
        while not stop.is_set():
            try:
                channel.put(item, timeout=0.5)
                return True
            except queues.Full:
                continue
        return False

    def clean() -> None:
        translation.activate(language)
        try:
            for batch in _batches(path, table, cleaner, skip, size):
                if not put(("batch", batch)):
                    return
            put(("end", None))
        except Exception as error:  # FileProblem or a bug: raised again in the writer
            put(("error", error))
        finally:
            connections.close_all()  # this thread's, had anything opened one

    thread = threading.Thread(target=clean, name="accord-import-cleaner", daemon=True)
    thread.start()
    try:
        with _quick_handover():
            while True:
                kind, payload = channel.get()
                if kind == "batch":
                    yield payload
                elif kind == "error":
                    raise payload
                else:
                    return
    finally:
        stop.set()
        thread.join(timeout=5)


_handovers = {"held": 0, "before": 0.0}
_handovers_lock = threading.Lock()


@contextmanager
def _quick_handover():
    """The interpreter passes between the writer and the cleaning thread after
    HANDOVER_SECONDS rather than Python's 5 ms. Each statement the writer sends lets the
    cleaner run; when the database answers, the writer waited for the cleaner to give the
    interpreter back, up to 5 ms a statement: a fifth of a realistic import's time on
    PostgreSQL (docs/performance.md). Process-wide, so counted: overlapping imports set it
    once and the last one to end puts Python's own back."""
    with _handovers_lock:
        if not _handovers["held"]:
            _handovers["before"] = sys.getswitchinterval()
            sys.setswitchinterval(min(HANDOVER_SECONDS, _handovers["before"]))
        _handovers["held"] += 1
    try:
        yield
    finally:
        with _handovers_lock:
            _handovers["held"] -= 1
            if not _handovers["held"]:
                sys.setswitchinterval(_handovers["before"])


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
