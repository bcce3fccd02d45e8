"""An export's cells made by PostgreSQL: each column read as the text the file holds.

The server formats every cell (a moment on the clock of the one exporting, a day, yes
or no, a custom field; phones, e-mails and tags joined per chunk in grouped queries)
and puts an apostrophe in front of a CSV cell a spreadsheet would run as a formula, so
the rows go from the cursor into the file without a Python step per cell, and the
server's work runs on a core of its own. (SQLite runs in the worker's process, where
that costs more than Python does: stored.py.)
"""

from django.db.models import F, Func, TextField

from accord.contacts.models import Company, ContactPoint, Person, Tag
from accord.core.spreadsheets import FORMULA_STARTS

SEPARATOR = ", "  # between the phones, e-mails, tags and choices of one cell
LISTED = {"phones": "phone", "emails": "email", "tags": "tags"}  # column -> what it joins


class Cell(Func):
    """An SQL expression over one field of the record's row (a name or a path)."""

    output_field = TextField()
    never_formula = False  # a cell the server itself formats: nothing to neutralise

    def __init__(self, source: str, neutral: bool = False, **extra):
        super().__init__(F(source), **extra)
        self.neutral = neutral

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        made = self.made(sql, list(params))
        return made if not self.neutral or self.never_formula else _neutral(*made)

    def made(self, sql: str, params: list) -> tuple[str, list]:
        return sql, params


def _neutral(sql: str, params: list) -> tuple[str, list]:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets an
    apostrophe in front."""
    marks = ", ".join(["%s"] * len(FORMULA_STARTS))
    case = f"CASE WHEN substr({sql}, 1, 1) IN ({marks}) THEN '''' || {sql} ELSE {sql} END"
    return case, [*params, *FORMULA_STARTS, *params, *params]


def _cell_text(sql: str, params: list, neutral: bool) -> tuple[str, list]:
    return _neutral(sql, params) if neutral else (sql, params)


class Text(Cell):
    """A text column as it is."""


class Day(Cell):
    never_formula = True

    def made(self, sql, params):
        return f"to_char({sql}, %s)", [*params, "YYYY-MM-DD"]


class YesNo(Cell):
    never_formula = True

    def made(self, sql, params):
        return f"(CASE WHEN {sql} THEN 'yes' WHEN NOT {sql} THEN 'no' END)", [*params, *params]


class Moment(Cell):
    """A moment on the clock of `zone`, to the minute (summer time included)."""

    never_formula = True

    def __init__(self, source: str, zone, **extra):
        super().__init__(source, **extra)
        self.zone = zone

    def made(self, sql, params):
        return f"to_char({sql} AT TIME ZONE %s, %s)", [
            *params,
            str(self.zone),
            "YYYY-MM-DD HH24:MI",
        ]


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


class Custom(Cell):
    """A custom field: text as it is, choices joined, yes or no, a number as a number."""

    def __init__(self, key: str, field_type: str = "", **extra):
        super().__init__("custom_fields", **extra)
        self.key, self.field_type = key, field_type

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return self.made(sql, list(params))

    def text(self, sql: str, params: list) -> tuple[str, list]:
        return _cell_text(sql, params, self.neutral)

    def made(self, sql, params):
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
