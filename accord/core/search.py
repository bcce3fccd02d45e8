"""Global search: one module, two engines.

SQLite: an FTS5 table (`search_fts`: kind, body) with prefix indexes. PostgreSQL: `core_searchentry`
with a full-text (simple dictionary) GIN index. (A pg_trgm fallback for typos was measured
at 0.3-1.3 s over 1.1M entries and left out: docs/decisions/0001.)
Records are indexed by their services; a query answers record ids, best first, which
the caller then passes through its visibility-scoped query.

Phone numbers are indexed as digits in E.164 and national form, so a number typed in
any format finds its owner: the query is normalised the same way.
"""

import re
from collections.abc import Iterable

from django.db import connection
from django.db.models.expressions import RawSQL
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from accord.core.bulk import insert
from accord.core.models import SearchEntry
from accord.core.phones import try_normalize_phone

KIND_CODES = {"person": 0, "company": 1, "deal": 2}
ROWID_STRIDE = 8
WORD = re.compile(r"\w+", re.UNICODE)
TAIL_SIZES = (7, 8, 9)  # a number's last digits that find it on their own
TYPED_DIGITS = re.compile(r"[\d\s\-().+/]+")  # a query of digits and what people put between


def phone_terms(e164: str) -> list[str]:
    """'+79123456789' -> ['79123456789', '9123456789', '3456789', '23456789', '123456789']:
    the international and national digits, and the last 7, 8 and 9 digits (people look a
    number up by its end: "345-67-89").

    The country code is found as libphonenumber finds it (the shortest of the first one
    to three digits that is a country's code), without parsing the number again: an
    import indexes a million of them."""

    digits = e164.lstrip("+")
    national = ""
    for size in (1, 2, 3):
        if digits[:size].isdecimal() and int(digits[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            rest = digits[size:]
            national = str(int(rest)) if rest.isdecimal() else ""
            break
    terms = [digits, national] if national and national != digits else [digits]
    return terms + _tails(national or digits)


def _tails(digits: str) -> list[str]:
    return [digits[-size:] for size in TAIL_SIZES if len(digits) > size]


def point_terms(kind: str, value: str) -> list[str]:
    """What a phone or e-mail adds to a search body: a phone's digits (international and
    national); an address and its words (PostgreSQL's parser keeps an address whole)."""
    if kind == "phone" and not value.startswith("+"):
        # A number kept as typed (not valid, from an import): its groups of digits and
        # all of them, so "052-000-1007" and "0520001007" both find it on both engines.
        groups = re.findall(r"\d+", value)
        digits = "".join(groups)
        return [" ".join(groups), digits, *_tails(digits)]
    if kind == "phone":
        return phone_terms(value)
    return [value, *re.split(r"[^\w]+", value)]


def index_record(kind: str, record_id: int, parts: Iterable[str]) -> None:
    body = " ".join(part for part in parts if part)
    if connection.vendor == "sqlite":
        rowid = record_id * ROWID_STRIDE + KIND_CODES[kind]
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_fts WHERE rowid = %s", [rowid])
            cursor.execute(
                "INSERT INTO search_fts(rowid, kind, body) VALUES (%s, %s, %s)",
                [rowid, kind, body],
            )
    else:
        # One statement (INSERT … ON CONFLICT DO UPDATE), not a read and a write.
        SearchEntry.objects.bulk_create(
            [SearchEntry(kind=kind, record_id=record_id, body=body)],
            update_conflicts=True, unique_fields=["kind", "record_id"], update_fields=["body"],
        )  # fmt: skip


def index_new_records(kind: str, bodies: list[tuple[int, Iterable[str]]]) -> None:
    """Index records just created, many at once (an import's batch): [(id, parts)]."""
    rows = [(record_id, " ".join(part for part in parts if part)) for record_id, parts in bodies]
    if not rows:
        return
    if connection.vendor == "sqlite":
        code = KIND_CODES[kind]
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO search_fts(rowid, kind, body) VALUES (%s, %s, %s)",
                [(record_id * ROWID_STRIDE + code, kind, body) for record_id, body in rows],
            )
    else:
        insert(SearchEntry._meta.db_table, ["kind", "record_id", "body"],
               [(kind, record_id, body) for record_id, body in rows])  # fmt: skip


def unindex_record(kind: str, record_id: int) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            rowid = record_id * ROWID_STRIDE + KIND_CODES[kind]
            cursor.execute("DELETE FROM search_fts WHERE rowid = %s", [rowid])
    else:
        SearchEntry.objects.filter(kind=kind, record_id=record_id).delete()


def query_terms(query: str) -> list[str]:
    """The words to look for, each as a prefix.

    A query that reads as a phone number becomes its digits ("8 915 123" finds
    +79151234567). Other digits are the start of a number or its end ("123-45-67"): both
    are in the index (phone_terms), so they are looked up as they are, or by their last
    nine when there are more (a number typed with a prefix the index does not hold)."""
    phone = try_normalize_phone(query)
    if phone:
        return [phone.lstrip("+")]
    if TYPED_DIGITS.fullmatch(query.strip()):
        digits = "".join(c for c in query if c.isdecimal())
        if len(digits) >= 3:
            return [digits[-TAIL_SIZES[-1] :]]
    words = [word.lower() for word in WORD.findall(query)]
    return words[:8]


def search_ids(kind: str, query: str, limit: int = 200, offset: int = 0) -> list[int]:
    """Ids of `kind` records matching every word of the query (as prefixes), best first."""
    terms = query_terms(query)
    if not terms:
        return []
    if connection.vendor == "sqlite":
        return _sqlite_search(kind, terms, limit, offset)
    return _postgres_search(kind, terms, limit, offset)


def matching(kind: str, query: str) -> RawSQL | None:
    """A subquery of every matching id, to filter a visibility-scoped queryset with
    `pk__in`: no cut-off before the scope is applied. None when the query has no words."""
    terms = query_terms(query)
    if not terms:
        return None
    if connection.vendor == "sqlite":
        return RawSQL(
            "SELECT rowid / %s FROM search_fts WHERE search_fts MATCH %s",
            [ROWID_STRIDE, _fts_match(kind, terms)],
        )
    # MATERIALIZED: find the matches first (one GIN bitmap scan), then join them. Left to
    # itself PostgreSQL walks the whole sort index and probes the entries row by row,
    # which took 2.2 s for a three-letter prefix at a million people (docs/performance.md).
    return RawSQL(
        "WITH found AS MATERIALIZED (SELECT record_id FROM core_searchentry WHERE kind = %s "
        "AND search_vector @@ to_tsquery('simple', %s)) SELECT record_id FROM found",
        [kind, _tsquery(terms)],
    )


def _fts_match(kind: str, terms: list[str]) -> str:
    """`kind:person AND body:("anna"* "kom"*)`: every word as a prefix, in one kind's rows."""
    words = " ".join('"' + term.replace('"', '""') + '"*' for term in terms)
    return f"kind:{kind} AND body:({words})"


def _tsquery(terms: list[str]) -> str:
    return " & ".join(f"{term}:*" for term in terms)


def _sqlite_search(kind: str, terms: list[str], limit: int, offset: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH %s "
            "ORDER BY rank LIMIT %s OFFSET %s",
            [_fts_match(kind, terms), limit, offset],
        )
        return [rowid // ROWID_STRIDE for (rowid,) in cursor.fetchall()]


def _postgres_search(kind: str, terms: list[str], limit: int, offset: int) -> list[int]:
    tsquery = _tsquery(terms)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT record_id FROM core_searchentry "
            "WHERE kind = %s AND search_vector @@ to_tsquery('simple', %s) "
            "ORDER BY ts_rank(search_vector, to_tsquery('simple', %s)) DESC, id "
            "LIMIT %s OFFSET %s",
            [kind, tsquery, tsquery, limit, offset],
        )
        return [row[0] for row in cursor.fetchall()]
