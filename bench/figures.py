"""The figures: the people list at page 1 and 10,000, its own-only variant, the list
filtered by a tag and a segment built on one, search, the card."""

import datetime
import hashlib
import os
import platform
import resource
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import django
from django.db import connection

from accord.contacts.models import Person
from accord.contacts.queries import search_people
from accord.core.models import TimelineEvent
from accord.core.search import search_ids
from bench.harness import (
    CARD_TARGET_MS,
    LIST_TARGET_MS,
    PAGE,
    SEARCH_TARGET_MS,
    Bench,
    deep_position,
    make_cursor,
)
from bench.measure import python_peak_kb, rss_mb
from bench.names import MAIN_CITY
from bench.org import card_person_id
from bench.phones import typed_as_ru_national

SORT = "full_name"
HTMX = {"HX-Request": "true"}  # the search box asks for the results partial only


def list_urls(cursor: str | None = None) -> tuple[str, str]:
    """The web screen and the API list, filtered by the main city, sorted by name."""
    query = {"city": MAIN_CITY, "sort": SORT} | ({"cursor": cursor} if cursor else {})
    return f"/clients/people/?{urlencode(query)}", f"/api/v1/people?{urlencode(query)}"


def cursor_after(queryset, position: int) -> str | None:
    """The cursor of the row at `position` (1-based): the next page starts after it."""
    if position < 1:
        return None
    name, pk = queryset.order_by(SORT, "pk").values_list(SORT, "pk")[position - 1]
    return make_cursor(SORT, [name, pk])


def check_cursor_format(bench: Bench, queryset) -> None:
    """The cursor built here must be the one the API hands out after page 1."""
    answer = bench.api.get(list_urls()[1]).json()
    if answer["next_cursor"] != cursor_after(queryset, PAGE):
        raise AssertionError("the bench's cursor differs from the API's: check its format")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def lists(bench: Bench) -> None:
    """(1), (4), (5): page 1 and page 10,000, web and API, query counts, raw SQL, memory."""
    queryset = Person.objects.filter(city__iexact=MAIN_CITY)
    count = queryset.count()
    position = deep_position(count)
    deep = cursor_after(queryset, position)
    check_cursor_format(bench, queryset)
    shared = {"filter": f"city={MAIN_CITY}", "sort": SORT, "matching": count, "raw": True}
    memory = {}
    for label, cursor, page in (("page1", None, 1), ("deep", deep, position // PAGE + 1)):
        web, api = list_urls(cursor)
        get_web, get_api = partial(bench.web.get, web), partial(bench.api.get, api)
        bench.figure(f"list_web_{label}", get_web, target_ms=LIST_TARGET_MS, page=page, **shared)
        bench.figure(f"list_api_{label}", get_api, target_ms=LIST_TARGET_MS, page=page, **shared)
        memory[label] = {
            "rss_mb": rss_mb(),
            "peak_rss_mb": peak_rss_mb(),
            "web_request_py_peak_kb": python_peak_kb(get_web),
            "api_request_py_peak_kb": python_peak_kb(get_api),
        }
    bench.emit("memory", page1=memory["page1"], deep=memory["deep"], deep_page=position // PAGE + 1)
    if connection.vendor == "sqlite":
        fresh_connection(bench, deep, position, shared)


def fresh_connection(bench: Bench, deep: str | None, position: int, shared: dict) -> None:
    """SQLite runs with CONN_MAX_AGE=0: a server opens a connection (cold cache) per request."""
    for label, cursor, page in (("page1", None, 1), ("deep", deep, position // PAGE + 1)):
        web = list_urls(cursor)[0]
        name, get = f"list_web_{label}_fresh_connection", partial(bench.web.get, web)
        fields = {**shared, "raw": False, "page": page}
        bench.figure(name, get, target_ms=LIST_TARGET_MS, before=connection.close, **fields)


def restricted(bench: Bench) -> None:
    """The same list for a user who may read only their own clients."""
    queryset = Person.objects.filter(city__iexact=MAIN_CITY, owner=bench.own)
    count = queryset.count()
    position = deep_position(count)
    shared = {"filter": f"city={MAIN_CITY}", "sort": SORT, "matching": count, "raw": True}
    for label, cursor, page in (
        ("page1", None, 1),
        ("deep", cursor_after(queryset, position), position // PAGE + 1),
    ):
        web = list_urls(cursor)[0]
        name, get = f"list_web_{label}_own_only", partial(bench.own_web.get, web)
        bench.figure(name, get, target_ms=LIST_TARGET_MS, page=page, **shared)


def tagged(bench: Bench) -> None:
    """The people list filtered by its most common tag, and a segment built on that tag
    (web and API, page 1); then a tag few people have."""
    from django.db.models import Count

    from accord.contacts.models import Tag
    from accord.contacts.services import segment_save

    tags = Tag.objects.annotate(people_count=Count("people")).order_by("-people_count", "pk")
    common = tags.first()
    segment = segment_save(actor=bench.manager, name=f"Bench: {common.name}",
                           record_type="person", filters={"tag": common.name})  # fmt: skip
    shared = {"tag": common.name, "matching": common.people_count, "sort": SORT, "raw": True}
    query = urlencode({"tag": common.name, "sort": SORT})
    for name, client, url in (
        ("list_web_tag", bench.web, f"/clients/people/?{query}"),
        ("list_api_tag", bench.api, f"/api/v1/people?{query}"),
        ("list_web_segment_tag", bench.web, f"/clients/people/?segment={segment.pk}&sort={SORT}"),
    ):
        bench.figure(name, partial(client.get, url), target_ms=LIST_TARGET_MS, **shared)
    rare = Tag.objects.create(name="bench rare tag")
    rare.people.add(*Person.objects.order_by("-pk").values_list("pk", flat=True)[:20])
    query = urlencode({"tag": rare.name, "sort": SORT})
    fields = {**shared, "tag": rare.name, "matching": 20}
    get = partial(bench.web.get, f"/clients/people/?{query}")
    bench.figure("list_web_tag_rare", get, target_ms=LIST_TARGET_MS, **fields)
    segment.delete()
    rare.delete()


def first_person(test, start: int) -> Person:
    """The first person from id `start` on who passes the test."""
    for person in Person.objects.filter(pk__gte=start).order_by("pk")[:20_000].iterator(500):
        if test(person):
            return person
    raise LookupError("no person fits; generate more people")


def in_script(low: str, high: str):
    """A test: the name starts with a letter of this alphabet (a Unicode range)."""
    return lambda person: low <= person.full_name[0] <= high


def search_targets(people: int) -> dict[str, Person]:
    """A Russian (with patronymic, mobile and e-mail), a Hebrew and an Armenian client."""
    start = max(1, people // 3)
    return {
        "ru": first_person(
            lambda p: (
                in_script("А", "я")(p)
                and p.middle_name != ""
                and p.primary_phone.startswith("+79")
                and p.primary_email != ""
            ),
            start,
        ),
        "he": first_person(in_script("\u05d0", "\u05ea"), start),
        "hy": first_person(in_script("\u0531", "\u0587"), start),
    }


def search_queries(targets: dict[str, Person]) -> list[tuple[str, str, Person | None]]:
    """(label, what is typed, whom it must find in the top 10; None for a bare prefix)."""
    ru = targets["ru"]
    return [
        ("name_prefix", ru.last_name[:3], None),
        ("full_name_ru", ru.full_name, ru),
        ("full_name_he", targets["he"].full_name, targets["he"]),
        ("full_name_hy", targets["hy"].full_name, targets["hy"]),
        ("phone_other_format", typed_as_ru_national(ru.primary_phone), ru),
        ("phone_digits_partial", ru.primary_phone[2:9], ru),
        ("phone_no_trunk", typed_as_ru_national(ru.primary_phone)[1:].strip(), ru),
        (
            "phone_last_7",
            f"{ru.primary_phone[-7:-4]}-{ru.primary_phone[-4:-2]}-{ru.primary_phone[-2:]}",
            ru,
        ),
        ("email", ru.primary_email, ru),
    ]


def found(top: list[tuple[int, str]], query: str, target: Person | None) -> bool | None:
    """Whether the top 10 (id, name) holds the person, or for a name a namesake."""
    if target is None:
        return None
    return any(pk == target.pk or name == query for pk, name in top)


def api_top(bench: Bench, url: str) -> list[tuple[int, str]]:
    items = bench.api.get(url).json()["items"]
    names = [(i["first_name"], i["middle_name"], i["last_name"]) for i in items]
    return [(int(i["id"]), " ".join(filter(None, n))) for i, n in zip(items, names, strict=True)]


def search(bench: Bench) -> None:
    """(2): the global search box (htmx) and the API's ?q= for names, phones, an e-mail."""
    for label, query, target in search_queries(search_targets(bench.base["people"])):
        web = "/search/?" + urlencode({"q": query})
        api = "/api/v1/people?" + urlencode({"q": query, "limit": 10})
        shown = [(p.pk, p.full_name) for p in search_people(bench.manager, query)]
        hits = {"query": query, "hits": len(search_ids("person", query))}
        web_found = found(shown, query, target)
        api_found = found(api_top(bench, api), query, target)
        get_web, get_api = partial(bench.web.get, web, headers=HTMX), partial(bench.api.get, api)
        target_ms = SEARCH_TARGET_MS
        bench.figure(f"search_web_{label}", get_web, target_ms=target_ms, found=web_found, **hits)
        bench.figure(f"search_api_{label}", get_api, target_ms=target_ms, found=api_found, **hits)


def source_digest() -> str:
    """A digest of Accord's Python source, to tell which code a set of figures measured."""
    root = Path(__file__).resolve().parent.parent / "accord"
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def environment(bench: Bench) -> None:
    """What the figures were measured on: versions, cores, Accord's latest migrations."""
    from django.db.migrations.recorder import MigrationRecorder

    applied = MigrationRecorder.Migration.objects.order_by("app", "name")
    latest = dict(applied.values_list("app", "name"))
    sql = "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        server = cursor.fetchone()[0]
    bench.emit(
        "environment",
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        cpus=os.cpu_count(),
        load_average=[round(load, 2) for load in os.getloadavg()],
        python=platform.python_version(),
        django=django.get_version(),
        server=f"{connection.vendor} {server}",
        migrations={app: latest.get(app) for app in ("accounts", "contacts", "core", "api")},
        accord_source=source_digest(),
    )


def card(bench: Bench) -> None:
    """(3): the card of a person with a 5,000-entry timeline (its first page of 20)."""
    pk = card_person_id(bench.base["people"])
    events = TimelineEvent.objects.filter(subject_id=pk, subject_type__model="person").count()
    url = f"/clients/people/{pk}/"
    bench.figure("card", partial(bench.web.get, url), target_ms=CARD_TARGET_MS, events=events)
