"""An export's cells as SQL: each column read by the database as the text the file holds.

The database formats every cell (a moment on the clock of the one exporting, a day, yes
or no, all phones, e-mails and tags joined, a custom field) and puts an apostrophe in
front of a CSV cell a spreadsheet would run as a formula, so the rows go from the
cursor into the file without a Python step per cell: that step was most of the export's
time (a million people, about 30 cells each).
"""

import datetime
import zoneinfo
from functools import cache

from django.db.models import F, Func, TextField

from accord.contacts.models import Company, ContactPoint, Person, Tag
from accord.transfer.cleaning import FORMULA_STARTS

SEPARATOR = ", "  # between the phones, e-mails, tags and choices of one cell
LISTED = {"phones": "phone", "emails": "email", "tags": "tags"}  # column -> what it joins


class Cell(Func):
    """An SQL expression over one column of the record's row (given as an F or a path),
    written per database engine."""

    output_field = TextField()

    def __init__(self, source, neutral: bool = False, **extra):
        super().__init__(F(source) if isinstance(source, str) else source, **extra)
        self.neutral = neutral

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        made = getattr(self, f"on_{connection.vendor}", self.on_any)(sql, list(params))
        return made if not self.neutral or self.never_formula else _neutral(*made)

    never_formula = False  # a cell the database itself formats: nothing to neutralise

    def on_any(self, sql: str, params: list) -> tuple[str, list]:
        return sql, params


def _neutral(sql: str, params: list) -> tuple[str, list]:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets an
    apostrophe in front."""
    marks = ", ".join(["%s"] * len(FORMULA_STARTS))
    case = f"CASE WHEN substr({sql}, 1, 1) IN ({marks}) THEN '''' || {sql} ELSE {sql} END"
    return case, [*params, *FORMULA_STARTS, *params, *params]


class Text(Cell):
    """A text column as it is."""


class Day(Cell):
    never_formula = True

    def on_postgresql(self, sql, params):
        return f"to_char({sql}, %s)", [*params, "YYYY-MM-DD"]

    def on_sqlite(self, sql, params):  # stored as ISO text already
        return sql, params


class YesNo(Cell):
    never_formula = True

    def on_any(self, sql, params):
        return f"(CASE WHEN {sql} THEN 'yes' WHEN NOT {sql} THEN 'no' END)", [*params, *params]


class Moment(Cell):
    """A moment (stored in UTC) on the clock of `zone`, to the minute."""

    never_formula = True

    def __init__(self, source, zone: datetime.tzinfo, **extra):
        super().__init__(source, **extra)
        self.zone = zone

    def on_postgresql(self, sql, params):
        zone = str(self.zone)
        return f"to_char({sql} AT TIME ZONE %s, %s)", [*params, zone, "YYYY-MM-DD HH24:MI"]

    def on_sqlite(self, sql, params):
        """SQLite knows no time zones: its text moment is shifted by the zone's offset at
        that moment, chosen by comparing it with the zone's changes of offset (halving
        the list at each step, so a cell compares a few times, not once per change)."""
        changes = offset_changes(str(self.zone))

        def shift(low: int, high: int) -> tuple[str, list]:
            if high - low == 1:
                return "%s", [f"{changes[low][1]:+d} seconds"]
            middle = (low + high) // 2
            before, before_params = shift(low, middle)
            after, after_params = shift(middle, high)
            case = f"CASE WHEN {sql} < %s THEN {before} ELSE {after} END"
            return case, [*params, changes[middle][0], *before_params, *after_params]

        modifier, modifier_params = shift(0, len(changes))
        # To the second first: SQLite would round 12:56:59.9996 to 12:57, Python cuts it.
        made = f"strftime(%s, substr({sql}, 1, 19), {modifier})"
        return made, ["%Y-%m-%d %H:%M", *params, *modifier_params]


FIRST_YEAR, LAST_YEAR = 1900, 2100  # moments outside take the offset of the nearest end


@cache
def offset_changes(zone_name: str) -> list[tuple[str, int]]:
    """(from this UTC moment as SQLite's text, the zone's offset in seconds) in time order:
    the zone's offset at each day's start, and the second it changes within a day."""
    zone = zoneinfo.ZoneInfo(zone_name) if zone_name != "UTC" else datetime.UTC

    def offset(moment: datetime.datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    day = datetime.datetime(FIRST_YEAR, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(LAST_YEAR, 1, 1, tzinfo=datetime.UTC)
    changes = [("", offset(day))]
    step = datetime.timedelta(days=1)
    while day < end:
        after = offset(day + step)
        if after != changes[-1][1]:
            low, high = day, day + step  # the change is in (low, high]: halve to the second
            while high - low > datetime.timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) != after else (low, middle)
            changes.append((high.strftime("%Y-%m-%d %H:%M:%S"), after))
        day += step
    return changes


class Listed(Cell):
    """A record's phones or e-mails (in their order), or its tags (by name), joined in
    one cell: a subquery per row, on the owner's index."""

    def __init__(self, kind: str, what: str, **extra):
        super().__init__("pk", **extra)
        self.kind, self.what = kind, what

    def parts(self, sql: str) -> tuple[str, str, str, list]:
        """The values' column, the FROM and WHERE, the sort, the parameters (the names
        come from the models, the values go as parameters)."""
        owner = f"{self.kind}_id"
        if self.what == "tags":
            model = Person if self.kind == "person" else Company
            link, tag = model.tags.through._meta.db_table, Tag._meta.db_table
            where = f"{link} JOIN {tag} ON {tag}.id = {link}.tag_id WHERE {link}.{owner} = {sql}"
            return f"{tag}.name", where, f"{tag}.name", []
        where = f"{ContactPoint._meta.db_table} WHERE {owner} = {sql} AND kind = %s"
        return "value", where, "position, id", [self.what]

    def on_postgresql(self, sql, params):
        value, where, order, own = self.parts(sql)
        if self.what == "tags":
            order = f'{order} COLLATE "C"'  # by code point, as Python sorts
        made = f"(SELECT string_agg({value}, %s ORDER BY {order}) FROM {where})"  # noqa: S608
        return made, [SEPARATOR, *params, *own]

    def on_sqlite(self, sql, params):
        # Before SQLite 3.44 an aggregate takes no ORDER BY: it joins the rows in the order
        # an ordered subquery hands them over (such a subquery is never flattened).
        value, where, order, own = self.parts(sql)
        inner = f"SELECT {value} AS value FROM {where} ORDER BY {order}"  # noqa: S608
        made = f"(SELECT group_concat(value, %s) FROM ({inner}))"  # noqa: S608
        return made, [SEPARATOR, *params, *own]


def listed_apart(cursor, kind: str, keys: list[str], ids: list[int], neutral: bool) -> list:
    """PostgreSQL: per column in `keys` (phones, emails, tags), {record id: the cell} for
    the records of one chunk (ascending `ids`), each kind read in one grouped query."""
    owner = f"{kind}_id"
    if ids[-1] - ids[0] < 2 * len(ids):  # most of a range (a whole list): read the range
        where, where_params = f"{owner} BETWEEN %s AND %s", [ids[0], ids[-1]]
    else:  # scattered (a segment, a filter)
        where, where_params = f"{owner} = ANY(%s)", [ids]
    found: dict[str, dict] = {}
    points = [key for key in keys if key != "tags"]
    if points:
        aggregates, params = [], []
        for key in points:
            made = "string_agg(value, %s ORDER BY position, id) FILTER (WHERE kind = %s)"
            made, made_params = _cell_text(made, [SEPARATOR, LISTED[key]], neutral)
            aggregates.append(made)
            params += made_params
        table = ContactPoint._meta.db_table
        cursor.execute(
            f"SELECT {owner}, {', '.join(aggregates)} FROM {table} WHERE {where} "  # noqa: S608
            f"GROUP BY {owner}",
            [*params, *where_params],
        )
        for row in cursor.fetchall():
            for place, key in enumerate(points, start=1):
                found.setdefault(key, {})[row[0]] = row[place]
    if "tags" in keys:
        model = Person if kind == "person" else Company
        link, tag = model.tags.through._meta.db_table, Tag._meta.db_table
        by_name = f'string_agg({tag}.name, %s ORDER BY {tag}.name COLLATE "C")'
        made, params = _cell_text(by_name, [SEPARATOR], neutral)
        cursor.execute(
            f"SELECT {owner}, {made} FROM {link} JOIN {tag} ON {tag}.id = {link}.tag_id "  # noqa: S608
            f"WHERE {where} GROUP BY {owner}",
            [*params, *where_params],
        )
        found["tags"] = dict(cursor.fetchall())
    return [found.get(key, {}) for key in keys]


def _cell_text(sql: str, params: list, neutral: bool) -> tuple[str, list]:
    return _neutral(sql, params) if neutral else (sql, params)


class Custom(Cell):
    """A custom field: text as it is, choices joined, yes or no, a number as a number."""

    def __init__(self, key: str, field_type: str = "", **extra):
        super().__init__("custom_fields", **extra)
        self.key, self.field_type = key, field_type

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return getattr(self, f"on_{connection.vendor}")(sql, list(params))

    def text(self, sql: str, params: list) -> tuple[str, list]:
        return _cell_text(sql, params, self.neutral)

    def on_sqlite(self, sql, params):
        path = f'$."{self.key}"'
        value, at = f"json_extract({sql}, %s)", [*params, path]
        joined = f"(SELECT group_concat(value, %s) FROM json_each({sql}, %s))"  # noqa: S608
        text, text_params = self.text(value, at)
        choices, choices_params = self.text(joined, [SEPARATOR, *params, path])
        case = (
            f"CASE json_type({sql}, %s) WHEN 'text' THEN {text} WHEN 'array' THEN {choices} "
            f"WHEN 'true' THEN 'yes' WHEN 'false' THEN 'no' ELSE {value} END"
        )
        return case, [*params, path, *text_params, *choices_params, *at]

    def on_postgresql(self, sql, params):
        value, at = f"({sql} ->> %s)", [*params, self.key]
        if self.field_type == "number":  # one column, one type: a number field's numbers
            number = f"CASE WHEN jsonb_typeof({sql} -> %s) = 'number' THEN {value}::numeric END"
            return number, [*params, self.key, *at]
        joined = f"(SELECT string_agg(e, %s) FROM jsonb_array_elements_text({sql} -> %s) e)"  # noqa: S608
        text, text_params = self.text(value, at)
        choices, choices_params = self.text(joined, [SEPARATOR, *params, self.key])
        case = (
            f"CASE jsonb_typeof({sql} -> %s) WHEN 'string' THEN {text} WHEN 'array' THEN "
            f"{choices} WHEN 'boolean' THEN (CASE WHEN {value}::boolean THEN 'yes' ELSE 'no' "
            f"END) ELSE {value} END"
        )
        return case, [*params, self.key, *text_params, *choices_params, *at, *at]
