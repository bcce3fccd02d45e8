"""Texts with a record's fields in them (`Dear {{ client.first_name }}`), as automation
steps, e-mail templates and mailings write them.

Rendered by a Django template engine of their own: no loaders, no tags or filters but
the built-in ones, no autoescaping (the texts are plain), and a context of plain values
only, so a template can reach nothing but the values it is given. A syntax error is
refused when the text is saved, with where it is (`problem`)."""

from functools import cache

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils.translation import gettext as _

MAX_LENGTH = 10_000


@cache
def _engine() -> Engine:
    return Engine(debug=True, autoescape=False, string_if_invalid="", loaders=[])


def problem(text: str, *, limit: int = MAX_LENGTH) -> str:
    """Why a template cannot be used (with the line and the text at fault), or ""."""
    if len(text) > limit:
        return _("At most %(limit)s characters.") % {"limit": limit}
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


def compile_text(text: str) -> Template:
    """The text compiled once, for rendering it for many records (a mailing)."""
    return _engine().from_string(text)


def render(text: str, values: dict) -> str:
    """The text with the values in place (an unknown field is left empty)."""
    if "{" not in text:
        return text
    return compile_text(text).render(Context(values, autoescape=False)).strip()


def render_compiled(template: Template, values: dict, *, autoescape: bool = False) -> str:
    """A compiled text filled in; `autoescape` for HTML (the values are text in it)."""
    return template.render(Context(values, autoescape=autoescape)).strip()
