"""Texts in actions (a task's title, an e-mail, a webhook's body) with the record's
fields: `Call {{ client.first_name }} about {{ deal.title }}`.

Rendered by a Django template engine of their own: no loaders, no tags or filters but
the built-in ones, no autoescaping (the texts are plain), and a context of plain values
only (`records.view`), so a template can reach nothing but the record's fields. A syntax
error is refused when the rule is saved, with where it is."""

from functools import cache

from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext as _

MAX_LENGTH = 10_000


@cache
def _engine() -> Engine:
    return Engine(debug=True, autoescape=False, string_if_invalid="", loaders=[])


def problem(text: str) -> str:
    """Why a template cannot be used (with the line and the text at fault), or ""."""
    if len(text) > MAX_LENGTH:
        return _("At most %(limit)s characters.") % {"limit": MAX_LENGTH}
    for opening, closing in (("{{", "}}"), ("{%", "%}")):
        start = text.find(opening)
        while start != -1:
            end = text.find(closing, start + 2)
            nested = text.find(opening, start + 2)
            if end == -1 or (nested != -1 and nested < end):
                line = text.count("\n", 0, start) + 1
                return _("Line %(line)s: “%(opening)s” is not closed by “%(closing)s”.") % {
                    "line": line, "opening": opening, "closing": closing,
                }  # fmt: skip
            start = text.find(opening, end + 2)
    try:
        _engine().from_string(text)
    except TemplateSyntaxError as error:
        where = getattr(error, "template_debug", None)
        if where:
            return _("Line %(line)s, at “%(text)s”: %(error)s") % {
                "line": where["line"], "text": where["during"], "error": where["message"],
            }  # fmt: skip
        return str(error)
    return ""


def render(text: str, values: dict) -> str:
    """The text with the record's values in place (an unknown field is left empty)."""
    if "{" not in text:
        return text
    return _engine().from_string(text).render(Context(values, autoescape=False)).strip()


def problems_in(params: dict, *names: str) -> list[str]:
    """What is wrong with the templates a step's `params` hold under `names`."""
    problems = []
    for name in names:
        text = params.get(name) or ""
        if not isinstance(text, str):
            problems.append(_("%(name)s must be text.") % {"name": name})
        elif found := problem(text):
            problems.append(found)
    return problems
