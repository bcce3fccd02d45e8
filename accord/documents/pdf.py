"""A document's HTML and PDF: the template filled in its sandbox, wrapped in a page that
knows the language's direction, and printed by WeasyPrint with Noto Sans for Latin,
Cyrillic, Hebrew and Armenian (served from our own static files, never fetched). The
compiled templates, the fonts and the parsed <style> of a template are kept between
documents, and the collector runs once after each PDF: the worker makes many."""

import functools
import gc
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils.translation import get_language_bidi, override
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from accord.documents.fields import EMPTY_IS_AN_ANSWER
from accord.documents.rendering import compile_template, render

FONTS_CSS = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "fonts.css"
SCRIPTS = ("latin", "latin-ext", "cyrillic", "cyrillic-ext", "hebrew", "armenian")
# :where() weighs nothing, so any rule of a template's own <style> wins over this one, as
# it did when that <style> was only ever read from the page (see _own_sheets).
PAGE_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm; }
:where(html) { font-family: FAMILIES, sans-serif;
       font-size: 10pt; line-height: 1.45; color: #1f2328; }
"""
# The preview's page in a browser: the PDF's type on a sheet-like page.
SCREEN_CSS = (
    "html { font-family: 'Noto Sans', 'Noto Sans Hebrew', 'Noto Sans Armenian', sans-serif;"
    " font-size: 13px; line-height: 1.45; color: #1f2328; background: #fff; }"
    " body { margin: 24px; }"
)
_lock = threading.Lock()


@dataclass
class Made:
    html: str
    missing: list[str]
    pdf: bytes = b""


def html_of(template, values: dict, language: str) -> Made:
    """The template filled with `values`, as the page the PDF prints."""
    rendered = render(_compiled(template.pk, template.version, template.body), values)
    with override(language):
        direction = "rtl" if get_language_bidi() else "ltr"
    body = rendered.html
    if "<html" not in body[:2000].lower():
        body = (
            f'<!doctype html><html lang="{language}" dir="{direction}"><head>'
            f'<meta charset="utf-8"></head><body>{body}</body></html>'
        )
    return Made(body, [name for name in rendered.missing if name not in EMPTY_IS_AN_ANSWER])


def make(template, values: dict, language: str) -> Made:
    made = html_of(template, values, language)
    fonts, stylesheets = _fonts()
    # WeasyPrint's font configuration is not meant for two threads at once
    with _lock, _collected_after():
        document = HTML(string=made.html, url_fetcher=_fetch, base_url=str(settings.MEDIA_ROOT))
        sheets = stylesheets + _own_sheets(document)
        made.pdf = document.write_pdf(stylesheets=sheets, font_config=fonts)
    return made


@contextmanager
def _collected_after():
    """No cycle collection while a PDF is made, one of the young objects after. A PDF
    leaves some ten thousand objects in cycles (boxes, styles, the parsed page); collected
    during the work, they were walked again and again while alive, then moved to the old
    generation to die only at a full collection of the whole process (7 ms a PDF)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def _own_sheets(document: HTML) -> list[CSS]:
    """The page's plain <style> elements as stylesheets parsed once per text, not once per
    PDF (5 ms of an invoice's 90). Each is then marked so WeasyPrint does not read it
    again. Passed as user sheets after PAGE_CSS, they weigh as they did inside the page:
    without an at-rule or an !important (any other <style> is left to WeasyPrint), a user
    sheet loses to the page's style="" and beats PAGE_CSS and WeasyPrint's own sheet."""
    sheets = []
    for style in document.etree_element.iter("style"):
        text = style.text or ""
        if not style.attrib and "@" not in text and "!" not in text:
            sheets.append(_sheet(text, document.base_url))
            style.set("type", "text/x-accord-read")
    return sheets


@functools.lru_cache(maxsize=64)
def _sheet(text: str, base_url: str) -> CSS:
    return CSS(string=text, base_url=base_url, url_fetcher=_fetch)


@functools.lru_cache(maxsize=64)
def _compiled(template_id, version, body):
    return compile_template(body)


@functools.lru_cache(maxsize=1)
def _fonts():
    """The font faces of the scripts documents are written in, read once per process. Each
    script's file is a family of its own, listed in turn: WeasyPrint does not choose among
    one family's files by unicode-range, but falls back from family to family per glyph."""
    config = FontConfiguration()
    faces, families = [], []
    for script in SCRIPTS:
        family = f"Accord {script}"
        families.append(f"'{family}'")
        for weight in (400, 700):
            file = FONTS_CSS.parent / "fonts" / f"{_font_file(script)}-{weight}-normal.woff2"
            faces.append(
                f"@font-face {{ font-family: '{family}'; font-weight: {weight}; "
                f"src: url({file.as_uri()}); }}"
            )
    page = PAGE_CSS.replace("FAMILIES", ", ".join(families))
    css = CSS(string="\n".join(faces) + page, font_config=config, url_fetcher=_fetch)
    return config, [css]


def _font_file(script: str) -> str:
    return {"hebrew": "noto-sans-hebrew-hebrew", "armenian": "noto-sans-armenian-armenian"}.get(
        script, f"noto-sans-{script}"
    )


def _allowed_roots() -> list[Path]:
    return [FONTS_CSS.parent.resolve(), (Path(settings.MEDIA_ROOT) / "company").resolve()]


class _Fetcher(URLFetcher):
    """Only our fonts, the company's own images (logo, signature, stamp) and data: URLs:
    a template cannot make the server read another file or call another address. What
    is refused is left out of the page, like an image that does not load."""

    def __init__(self):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if not (path.is_file() and any(path.is_relative_to(r) for r in _allowed_roots())):
                raise ValueError(_("A document may show only the company's own images."))
        return super().fetch(url, headers)


_fetch = _Fetcher()


def print_html(html: str) -> bytes:
    """A page of Accord's own (a dashboard, a report) as a PDF, in the documents' fonts."""
    fonts, stylesheets = _fonts()
    with _lock, _collected_after():
        document = HTML(string=html, url_fetcher=_fetch, base_url=str(settings.MEDIA_ROOT))
        return document.write_pdf(stylesheets=stylesheets, font_config=fonts)
