"""What every figure shares: the logged-in clients, the targets, cursors, the JSON output."""

import base64
import json
import re

PAGE = 50
DEEP_PAGE = 10_000
LIST_TARGET_MS, SEARCH_TARGET_MS, CARD_TARGET_MS = 50, 100, 50
MAX_QUERIES, MAX_RATIO = 6, 3.0
MODEL_BACKEND = "accord.accounts.backends.AccountBackend"


def make_cursor(sort: str, values: list) -> str:
    """A cursor as accord.core.pagination writes it: base64url JSON of sort and values."""
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def deep_position(count: int) -> int:
    """Rows before the deep page: page 10,000 when the list is that long, else its last page."""
    last_full = max(0, (count - PAGE) // PAGE * PAGE)
    return min(PAGE * (DEEP_PAGE - 1), last_full)


def short_sql(sql: str) -> str:
    """The SQL without its long column list: SELECT … FROM ..."""
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", sql, count=1, flags=re.DOTALL)


def is_list_query(sql: str) -> bool:
    """The page's own SELECT: people, limited to a page (the others are session, user...)."""
    return 'FROM "contacts_person"' in sql and "LIMIT" in sql


class Bench:
    """The users, clients and helpers every figure shares."""

    def __init__(self, repeat: int):
        from django.db import connection
        from django.test import Client

        from accord.accounts.models import User
        from accord.accounts.services import token_create
        from accord.contacts.models import Company, Person
        from bench.org import MANAGER_EMAIL, OWN_ONLY_EMAIL

        self.repeat = repeat
        self.base = {
            "db": connection.vendor,
            "people": Person.objects.count(),
            "companies": Company.objects.count(),
        }
        self.manager = User.objects.get(email=MANAGER_EMAIL)
        self.own = User.objects.get(email=OWN_ONLY_EMAIL)
        self.web = Client()
        self.web.force_login(self.manager, backend=MODEL_BACKEND)
        self.own_web = Client()
        self.own_web.force_login(self.own, backend=MODEL_BACKEND)
        _token, key = token_create(user=self.manager, name="bench")
        self.api = Client(headers={"Authorization": f"Bearer {key}"})

    def emit(self, figure: str, **fields) -> dict:
        line = {"figure": figure, **self.base, **fields}
        print(json.dumps(line, ensure_ascii=False), flush=True)
        return line

    def figure(self, name, request, *, target_ms, raw=False, before=None, **extra) -> dict:
        """Time a request, count its queries, optionally compare it with its raw SQL."""
        from bench.measure import capture, time_requests

        timing = time_requests(request, self.repeat, before)
        queries, sent = capture(request)
        fields = {
            "median_ms": timing.median_ms,
            "p95_ms": timing.p95_ms,
            "min_ms": timing.min_ms,
            "queries": queries,
            "target_ms": target_ms,
            "met": timing.p95_ms <= target_ms,
            **extra,
        }
        if raw:  # a list: its query count and raw SQL count too
            fields["queries_met"] = queries <= MAX_QUERIES
            fields.update(self.raw_ratio(timing.median_ms, sent))
        return self.emit(name, **fields)

    def raw_ratio(self, median_ms: float, sent: list) -> dict:
        """The request against its list query (and all its SELECTs) run raw on a cursor."""
        from bench.measure import query_plan, raw_ms

        selects = [s for s in sent if s.sql.lstrip().upper().startswith("SELECT")]
        times = [raw_ms(statement, self.repeat) for statement in selects]
        main = next(i for i, s in enumerate(selects) if is_list_query(s.sql))
        ratio = median_ms / max(times[main], 0.001)
        return {
            "raw_sql_ms": times[main],
            "raw_all_sql_ms": round(sum(times), 3),
            "ratio": round(ratio, 1),
            "ratio_all_sql": round(median_ms / max(sum(times), 0.001), 1),
            "ratio_met": ratio <= MAX_RATIO,
            "list_sql": short_sql(selects[main].sql),
            "list_params": [str(value) for value in selects[main].params or []],
            "plan": query_plan(selects[main]),
        }
