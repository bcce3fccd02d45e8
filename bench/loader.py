"""Writes built records batch by batch: the record rows, contact points, tags, search, timeline."""

import datetime
import os
import random
import sys
import time

from django.contrib.contenttypes.models import ContentType
from django.core.validators import validate_email
from django.db import connection, transaction

from accord.contacts.models import Company, ContactPoint, Person
from accord.core.bulk import Table, insert, next_id
from accord.core.models import SearchEntry, TimelineEvent
from accord.core.search import KIND_CODES, ROWID_STRIDE
from bench import names
from bench.org import CARD_EVENTS, Org, card_person_id
from bench.phones import check_sample
from bench.records import Built, Context, make_company, make_person

CHECK_EVERY = 50  # one record in 50 is checked against the services' own validation
PROGRESS_EVERY = 100_000


def current_rss_mb() -> float:
    """The process's resident memory now (Linux), not its high-water mark."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Loader:
    """Streams records into the database; keeps only counters and company names in memory."""

    def __init__(self, org: Org, *, now: datetime.datetime, seed: str):
        self.org, self.now, self.seed = org, now, seed
        self.company_names: list[str] = []
        self.company_domains: list[str] = []
        self.rows = 0
        self.rss_trail: list[int] = []
        self.started = time.perf_counter()
        models = [
            Person,
            Company,
            ContactPoint,
            Person.tags.through,
            Company.tags.through,
            SearchEntry,
            TimelineEvent,
        ]
        self.tables = {model: Table(model) for model in models}
        self.ids = {model: next_id(model) for model in models}
        self.content_types = {
            "person": ContentType.objects.get_for_model(Person).pk,
            "company": ContentType.objects.get_for_model(Company).pk,
        }

    # --- the two passes -------------------------------------------------------------

    def companies(self, count: int, batch: int) -> None:
        ctx = self.context()
        for start in range(0, count, batch):
            rng = random.Random(f"{self.seed}-company-{start}")
            built = []
            for pk in range(start + 1, min(count, start + batch) + 1):
                record, domain = make_company(rng, pk, ctx)
                built.append(record)
                self.company_names.append(record.row["name"])
                self.company_domains.append(domain)
            self.write("company", built)

    def people(self, count: int, batch: int) -> None:
        ctx = self.context()
        done = 0
        for start in range(0, count, batch):
            rng = random.Random(f"{self.seed}-person-{start}")
            stop = min(count, start + batch)
            self.write("person", [make_person(rng, pk, ctx) for pk in range(start + 1, stop + 1)])
            if stop // PROGRESS_EVERY > done // PROGRESS_EVERY or stop == count:
                self.progress(stop, count)
            done = stop

    def context(self) -> Context:
        return Context(
            owner_ids=self.org.owner_ids,
            tags=self.org.tags,
            company_names=self.company_names,
            company_domains=self.company_domains,
            now=self.now,
        )

    def progress(self, done: int, total: int) -> None:
        rss = round(current_rss_mb())
        self.rss_trail.append(rss)
        seconds = time.perf_counter() - self.started
        print(
            f"[generate] {done:,}/{total:,} people, {self.rows:,} rows, {seconds:.0f} s, "
            f"{self.rows / seconds:,.0f} rows/s, RSS {rss} MB",
            file=sys.stderr,
            flush=True,
        )

    # --- one batch ------------------------------------------------------------------

    def write(self, kind: str, built: list[Built]) -> None:
        self.check(built)
        model = Person if kind == "person" else Company
        with transaction.atomic():
            self.rows += self.tables[model].write(record.row for record in built)
            self.write_points(kind, built)
            self.write_tags(kind, model, built)
            self.write_search(kind, built)
            self.write_created(kind, built)

    def take_ids(self, model, count: int) -> range:
        first = self.ids[model]
        self.ids[model] = first + count
        return range(first, first + count)

    def write_points(self, kind: str, built: list[Built]) -> None:
        rows = [
            {**point, f"{kind}_id": record.row["id"]} for record in built for point in record.points
        ]
        for row, pk in zip(rows, self.take_ids(ContactPoint, len(rows)), strict=True):
            row["id"] = pk
        self.rows += self.tables[ContactPoint].write(rows)

    def write_tags(self, kind: str, model, built: list[Built]) -> None:
        through = model.tags.through
        pairs = [(record.row["id"], tag) for record in built for tag in record.tag_ids]
        ids = self.take_ids(through, len(pairs))
        rows = [
            {"id": pk, f"{kind}_id": owner, "tag_id": tag}
            for pk, (owner, tag) in zip(ids, pairs, strict=True)
        ]
        self.rows += self.tables[through].write(rows)

    def write_search(self, kind: str, built: list[Built]) -> None:
        """Like core.search.index_record: FTS5 rowids on SQLite, core_searchentry on PostgreSQL."""
        if connection.vendor == "sqlite":
            code = KIND_CODES[kind]
            rows = [(r.row["id"] * ROWID_STRIDE + code, kind, r.body) for r in built]
            self.rows += insert("search_fts", ["rowid", "kind", "body"], rows)
            return
        ids = self.take_ids(SearchEntry, len(built))
        self.rows += self.tables[SearchEntry].write(
            {"id": pk, "kind": kind, "record_id": r.row["id"], "body": r.body}
            for pk, r in zip(ids, built, strict=True)
        )

    def write_created(self, kind: str, built: list[Built]) -> None:
        """The "created" entry every record's timeline starts with."""
        ids = self.take_ids(TimelineEvent, len(built))
        self.rows += self.tables[TimelineEvent].write(
            {
                "id": pk,
                "subject_type_id": self.content_types[kind],
                "subject_id": r.row["id"],
                "kind": "created",
                "actor_id": r.row["created_by_id"],
                "occurred_at": r.row["created_at"],
                "data": {},
            }
            for pk, r in zip(ids, built, strict=True)
        )

    def check(self, built: list[Built]) -> None:
        """A sample of phones and e-mails must be what the services would store."""
        for record in built[::CHECK_EVERY]:
            check_sample(record.typed_phones)
            for point in record.points:
                if point["kind"] == "email":
                    validate_email(point["value"])

    # --- the card -------------------------------------------------------------------

    def card_timeline(self, people: int) -> None:
        """A long-standing client: 5,000 timeline entries (notes and changes), for the card."""
        if not people:
            return
        person = Person.objects.get(pk=card_person_id(people))
        rng = random.Random(f"{self.seed}-card")
        span = (self.now - person.created_at).total_seconds()
        count = CARD_EVENTS - 1  # the "created" entry is there already
        moments = sorted(rng.uniform(1, span) for _n in range(count))
        events = [self.card_event(rng, person, seconds) for seconds in moments]
        for event, pk in zip(events, self.take_ids(TimelineEvent, count), strict=True):
            event["id"] = pk
        with transaction.atomic():
            self.rows += self.tables[TimelineEvent].write(events)

    def card_event(self, rng: random.Random, person: Person, seconds: float) -> dict:
        event = {
            "subject_type_id": self.content_types["person"],
            "subject_id": person.pk,
            "actor_id": rng.choice(self.org.owner_ids),
            "occurred_at": person.created_at + datetime.timedelta(seconds=seconds),
        }
        if rng.random() < 0.6:
            return {**event, "kind": "note", "data": {"text": rng.choice(names.NOTES)}}
        old, new = rng.sample(names.CITIES["ru"], 2)
        changes = [{"field": "city", "old": old, "new": new}]
        if rng.random() < 0.5:
            changes.append({"field": "custom_fields.segment", "old": "retail", "new": "dealer"})
        return {**event, "kind": "changed", "data": {"changes": changes}}
