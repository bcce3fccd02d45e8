"""A dashboard printed for one reader: their figures (their access, their language and
time zone), charts drawn as SVG pictures, on A4 landscape pages."""

from django.template.loader import render_to_string
from django.utils import timezone

from accord.documents.pdf import print_html
from accord.reports.drawing import svg_chart
from accord.reports.queries import shown


def shown_all(reader, widgets, overrides: dict | None = None) -> list:
    """The widgets the reader may read, with their figures, numbered for the page."""
    done: dict = {}  # figures computed for one widget serve another of the same report
    items = [s for s in (shown(reader, w, overrides, done) for w in widgets) if s is not None]
    for index, item in enumerate(items, 1):
        item.index = index
    return items


def dashboard_pdf(reader, name: str, widgets, overrides: dict | None = None) -> bytes:
    items = shown_all(reader, widgets, overrides)
    for item in items:
        item.picture = svg_chart(item) if item.widget.chart not in ("number", "table") else ""
    html = render_to_string("reports/dashboard_print.html", {
        "name": name, "widgets": items, "made_at": timezone.localtime(), "reader": reader,
    })  # fmt: skip
    return print_html(html)
