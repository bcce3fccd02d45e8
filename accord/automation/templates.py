"""Texts in actions (a task's title, an e-mail, a webhook's body) with the record's
fields: `Call {{ client.first_name }} about {{ deal.title }}`.

Rendered by the sandboxed engine of accord/core/texts.py (shared with e-mail templates
and mailings) with a context of plain values only (`records.view`), so a template can
reach nothing but the record's fields. A syntax error is refused when the rule is saved,
with where it is.

A step's text may have a variant per language (`params["translations"]["ru"]["title"]`):
the person who reads it gets theirs — a task's assignee, a notice's recipient, a deal's
owner; the text itself is the fallback."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from accord.core.company import default_language
from accord.core.texts import MAX_LENGTH, problem, render

__all__ = ["MAX_LENGTH", "language_of", "problem", "problems_in", "render", "render_for"]


def language_of(user) -> str:
    """The language `user` reads Accord in: their own, else the company's."""
    try:
        return translation.get_supported_language_variant(
            getattr(user, "language", "") or default_language()
        )
    except LookupError:
        return settings.LANGUAGE_CODE


def render_for(params: dict, name: str, values: dict, language: str) -> str:
    """The step's text `name` in `language` (its variant, else the text), filled in while
    that language is active (a lazy label among the values reads in it too)."""
    variant = ((params.get("translations") or {}).get(language) or {}).get(name)
    with translation.override(language):
        return render(variant or params.get(name) or "", values)


def problems_in(params: dict, *names: str) -> list[str]:
    """What is wrong with the templates a step's `params` hold under `names`, and with
    their variants per language."""
    problems = []
    for name in names:
        text = params.get(name) or ""
        if not isinstance(text, str):
            problems.append(_("%(name)s must be text.") % {"name": name})
        elif found := problem(text):
            problems.append(found)
    return problems + _variant_problems(params.get("translations"), names)


def _variant_problems(variants, names: tuple[str, ...]) -> list[str]:
    if variants in (None, {}):
        return []
    codes = dict(settings.LANGUAGES)
    if not isinstance(variants, dict) or not all(isinstance(v, dict) for v in variants.values()):
        return [_("translations: an object of languages, each an object of texts.")]
    problems = []
    for code, texts in variants.items():
        if code not in codes:
            problems.append(
                _("translations: Accord speaks no language “%(code)s” (%(codes)s).")
                % {"code": code, "codes": ", ".join(codes)}
            )
            continue
        for name, text in texts.items():
            where = f"{codes[code]}, {name}"
            if name not in names:
                problems.append(_("%(where)s: this step has no such text.") % {"where": where})
            elif not isinstance(text, str):
                problems.append(_("%(where)s: must be text.") % {"where": where})
            elif found := problem(text):
                problems.append(f"{where}: {found}")
    return problems
