"""A document template's language: HTML with Jinja merge fields, rendered in Jinja's
sandbox with nothing in reach but the values a document is given (plain dicts, lists and
strings: no model, no setting, no file). Checked when saved: a syntax error or a field that
does not exist is refused with its line and position."""

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from accord.documents.fields import LIST_OF, Schema

MAX_OUTPUT = 5_000_000  # characters: a loop that multiplies text stops here


class Values(dict):
    """A record's merge values. Reading one that is empty notes it (the preview warns:
    "client.address is empty"), and the document shows an empty place."""

    def __init__(self, data: dict, path: str, missing: set[str]):
        super().__init__(data)
        self.path, self.missing = path, missing

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if value in ("", None):
            self.missing.add(f"{self.path}.{key}")
            return ""
        return value


def wrap(values: Any, path: str, missing: set[str]) -> Any:
    if isinstance(values, dict):
        return Values(
            {k: wrap(v, f"{path}.{k}", missing) for k, v in values.items()}, path, missing
        )
    if isinstance(values, list):
        return [wrap(item, path, missing) for item in values]
    return values


class Sealed:
    """A value a template may print but not look into (a picture in a Word document): its
    attributes are the renderer's, not the document's."""


class _Bounded(Template):
    """Rendering stops once the output grows past MAX_OUTPUT: a loop inside a loop cannot
    eat the worker's memory."""

    def render(self, *args, **kwargs) -> str:
        chunks, size = [], 0
        for chunk in self.generate(*args, **kwargs):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise ValueError(
                    _("The document grew past %(size)s characters.") % {"size": MAX_OUTPUT}
                )
            chunks.append(chunk)
        return "".join(chunks)


class _Environment(ImmutableSandboxedEnvironment):
    template_class = _Bounded

    def getattr(self, obj, attribute):
        if isinstance(obj, Values):  # values are keys, never methods (`deal.items` is a field)
            return obj[attribute] if attribute in obj else self.undefined(name=attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj, attr, value) -> bool:
        return not isinstance(obj, Sealed) and super().is_safe_attribute(obj, attr, value)


ENVIRONMENT = _Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
# Word's XML keeps its own line breaks and spaces: no trimming around {% %} there.
WORD_ENVIRONMENT = _Environment(autoescape=True)


@dataclass
class Problem:
    line: int
    position: int | None
    message: str
    unit: str = "line"  # a Word template's lines are its paragraphs

    def __str__(self) -> str:
        where = {"line": self.line, "position": self.position, "message": self.message}
        if self.unit == "paragraph":
            if self.position:
                return _("Paragraph %(line)s, position %(position)s: %(message)s") % where
            return _("Paragraph %(line)s: %(message)s") % where
        if self.position:
            return _("Line %(line)s, position %(position)s: %(message)s") % where
        return _("Line %(line)s: %(message)s") % where


@dataclass
class Rendered:
    html: str
    missing: list[str] = field(default_factory=list)


def check(source: str, schema: Schema) -> list[Problem]:
    """The template's problems: its syntax, then every field it names that `schema` has not."""
    try:
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as error:
        return [Problem(error.lineno or 1, None, _syntax_message(error))]
    problems: list[Problem] = []
    _walk(tree, schema, dict(schema.roots), source.splitlines(), problems)
    return problems


def compile_template(source: str):
    return ENVIRONMENT.from_string(source)


def render(template, values: dict) -> Rendered:
    """`template` (compiled once, see compile_template) filled with `values`."""
    missing: set[str] = set()
    html = template.render(wrapped(values, missing))
    return Rendered(html, sorted(missing))


def wrapped(values: dict, missing: set[str]) -> dict:
    """`values` as a template reads them: an empty one read is noted in `missing`."""
    return {name: wrap(value, name, missing) for name, value in values.items()}


def _syntax_message(error: TemplateSyntaxError) -> str:
    return _("the template does not read (%(reason)s).") % {"reason": error.message}


def _walk(node, schema: Schema, scope: dict, lines: list[str], problems: list[Problem]) -> None:
    """Check the fields of `node` and below. `scope` maps the names in reach (the roots,
    then loop variables) to what they hold."""
    if isinstance(node, nodes.For):
        _walk(node.iter, schema, scope, lines, problems)
        inner = dict(scope)
        element = _element(node.iter, schema, scope)
        for target in _names(node.target):
            inner[target.name] = element
        inner["loop"] = None  # Jinja's loop.index and its friends
        for child in [*node.body, *node.else_]:
            _walk(child, schema, inner, lines, problems)
        if node.test is not None:
            _walk(node.test, schema, inner, lines, problems)
        return
    if isinstance(node, nodes.Assign | nodes.AssignBlock):
        for target in _names(node.target):
            scope[target.name] = None  # {% set x = ... %}: what it holds is the template's
    if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name) and _is_path(node):
        _check_path(node, schema, scope, lines, problems)
        return
    for child in node.iter_child_nodes():
        _walk(child, schema, scope, lines, problems)


def _names(target) -> list:
    """The names a loop or {% set %} binds: one, or a tuple of them."""
    return [target] if isinstance(target, nodes.Name) else list(target.find_all(nodes.Name))


def _is_path(node) -> bool:
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return False
        node = node.node
    return isinstance(node, nodes.Name) and node.ctx == "load"


def _path(node) -> list[str]:
    parts: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        parts.append(node.attr if isinstance(node, nodes.Getattr) else str(node.arg.value))
        node = node.node
    parts.append(node.name)
    return parts[::-1]


def _check_path(node, schema: Schema, scope: dict, lines, problems) -> None:
    parts = _path(node)
    if parts[0] not in scope:
        problems.append(_unknown(parts[:1], node.lineno, lines))
        return
    held = scope[parts[0]]
    for depth, part in enumerate(parts[1:], start=1):
        if held is None:  # a variable the template set itself, or loop.*
            return
        if not isinstance(held, dict) or part not in held:
            problems.append(_unknown(parts[: depth + 1], node.lineno, lines))
            return
        held = held[part]


def _element(iterable, schema: Schema, scope: dict):
    if not _is_path(iterable):
        return None
    held: Any = scope
    for part in _path(iterable):
        if not isinstance(held, dict) or part not in held:
            return None
        held = held[part]
    return held.get(LIST_OF) if isinstance(held, dict) else None


def _unknown(parts: list[str], line: int, lines: list[str]) -> Problem:
    name = ".".join(parts)
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    found = re.search(r"\b" + r"\s*\.\s*".join(map(re.escape, parts)) + r"\b", text)
    position = found.start() + 1 if found else None
    return Problem(line, position, _("there is no field “%(name)s”.") % {"name": name})
