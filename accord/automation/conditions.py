"""Conditions: "all" or "any" of a list, each a field of the record (or a related one:
`client.tags`, `deal.amount`, `owner.team`, `deal.custom.size`) compared with a value;
a list item may itself be a group. Checked when a rule is saved, evaluated on the plain
view of the record (`records.view`)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation.records import in_segment, segment_of

OPERATORS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "gt": gettext_lazy("is more than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
}
NO_VALUE = {"empty", "not_empty"}
# "segment is / is not VIP": the record (its client, its deal) in a saved segment.
SEGMENT = "segment"
MAX_DEPTH = 4  # groups within groups


class ConditionError(ValueError):
    """A condition that cannot be evaluated: the message says which and why."""


def read(view: dict, path: str) -> Any:
    """The value at "deal.amount" / "client.custom.size" in a record's view; None when
    the record has no such part."""
    value: Any = view
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def holds(conditions: dict | None, view: dict) -> bool:
    """Whether the conditions hold for the record; no conditions always hold."""
    if not conditions or not conditions.get("items"):
        return True
    results = (_item(item, view) for item in conditions["items"])
    return all(results) if conditions.get("match", "all") == "all" else any(results)


def _item(item: dict, view: dict) -> bool:
    if "items" in item:
        return holds(item, view)
    if item["field"] == SEGMENT:
        if segment_of(item.get("value")) is None:
            return False  # a segment that is gone holds for neither "is" nor "is not"
        member = in_segment(view, item.get("value"))
        return member if item["op"] == "eq" else not member
    return compare(read(view, item["field"]), item["op"], item.get("value"))


def compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "empty":
        return actual in (None, "", [], {})
    if op == "not_empty":
        return actual not in (None, "", [], {})
    if op in ("contains", "not_contains"):
        found = _contains(actual, expected)
        return found if op == "contains" else not found
    if op in ("eq", "ne"):
        same = _equal(actual, expected)
        return same if op == "eq" else not same
    left, right = _number(actual), _number(expected)
    if left is None or right is None:  # dates as ISO text compare in order too
        if not isinstance(actual, str) or not isinstance(expected, str) or not actual:
            return False
        left, right = actual, expected
    return {"gt": left > right, "gte": left >= right, "lt": left < right,
            "lte": left <= right}[op]  # fmt: skip


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        return None


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return _text(expected) in {_text(item) for item in actual}
    if isinstance(actual, bool) or isinstance(expected, bool):
        return _truth(actual) == _truth(expected)
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    return _text(actual) == _text(expected)


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list):
        return _text(expected) in {_text(item) for item in actual}
    return _text(expected) in _text(actual)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip().casefold()


def _truth(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "on"}
    return bool(value)


def check(conditions: dict | None, fields: set[str], depth: int = 0) -> list[str]:
    """What is wrong with conditions, for the rule screen: an unknown field or operator,
    a missing value. `fields` are the paths the rule's record offers."""
    if not conditions:
        return []
    if not isinstance(conditions, dict) or not isinstance(conditions.get("items", []), list):
        return [_("The conditions cannot be read.")]
    if conditions.get("match", "all") not in ("all", "any"):
        return [_("Conditions match all or any.")]
    if depth > MAX_DEPTH:
        return [_("Groups go at most %(depth)s deep.") % {"depth": MAX_DEPTH}]
    problems = []
    for item in conditions.get("items", []):
        if not isinstance(item, dict):
            problems.append(_("The conditions cannot be read."))
        elif "items" in item:
            problems += check(item, fields, depth + 1)
        elif item.get("field") not in fields and not _custom_path(item.get("field"), fields):
            problems.append(_("There is no field %(field)s.") % {"field": item.get("field")})
        elif item.get("op") not in OPERATORS:
            problems.append(_("Unknown comparison %(op)s.") % {"op": item.get("op")})
        elif item["field"] == SEGMENT:
            problems += _segment_problems(item)
        elif item["op"] not in NO_VALUE and item.get("value") in (None, ""):
            problems.append(_("Give a value to compare %(field)s with.") % {"field": item["field"]})
    return problems


def _custom_path(path: Any, fields: set[str]) -> bool:
    """ "deal.custom.size": a custom field of a part the rule's record has."""
    if not isinstance(path, str) or path.count(".") != 2:
        return False
    part, custom, _key = path.split(".")
    return custom == "custom" and any(field.startswith(f"{part}.") for field in fields)


def _segment_problems(item: dict) -> list[str]:
    if item["op"] not in ("eq", "ne"):
        return [_("A segment is compared with “is” or “is not”.")]
    if segment_of(item.get("value")) is None:
        return [_("There is no segment %(name)s.") % {"name": item.get("value") or ""}]
    return []


def each(group: dict | None):
    """Every condition row of a group and its groups within (to rewrite them in place)."""
    for item in (group or {}).get("items") or []:
        if isinstance(item, dict) and "items" in item:
            yield from each(item)
        elif isinstance(item, dict):
            yield item
