"""A widget's chart drawn as SVG for the printed dashboard (a PDF cannot run Chart.js):
bars, a line or a funnel, in print colours, mirrored for a right-to-left language."""

from django.utils.html import escape
from django.utils.translation import get_language_bidi

from accord.reports.cells import shown

WIDTH, HEIGHT = 680, 220
LEFT, BOTTOM, TOP = 64, 36, 12  # room for the axis labels
COLOURS = ("#3b5bdb", "#2f9e44", "#e8590c", "#7048e8", "#0c8599")
MAX_LABEL = 14


def _nice(top: float) -> float:
    """A round axis maximum at or above `top`."""
    if top <= 0:
        return 1
    step = 10 ** (len(str(int(top))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if step * factor >= top:
            return step * factor
    return top


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def svg_chart(item) -> str:
    figures = item.figures
    if not figures.rows or not figures.series:
        return ""
    if item.widget.chart == "funnel":
        return _funnel(figures)
    rtl = get_language_bidi()
    series = figures.series[:5]
    values = [v for s in series for v in s["data"] if v is not None]
    top = _nice(max(values, default=0))
    count = len(figures.labels)
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = inner_w / max(count, 1)

    def x_of(index: float) -> float:
        x = LEFT + slot * index
        return WIDTH - x + LEFT - 8 if rtl else x

    def y_of(value: float) -> float:
        return TOP + inner_h - (value or 0) / top * inner_h

    kind = next((c.kind for c in figures.columns if c.key == series[0]["key"]), "int")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" font-size="10" fill="#57606a">']  # fmt: skip
    for step in range(5):
        value = top * step / 4
        y = y_of(value)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#d0d7de" stroke-width="0.5"/>')  # fmt: skip
        label_x = WIDTH - 4 if rtl else LEFT - 4
        anchor = "start" if rtl else "end"
        text = escape(shown(value, "int" if kind == "money" else kind, ""))
        parts.append(f'<text x="{label_x if not rtl else WIDTH - LEFT + 12}" y="{y + 3:.1f}" '
                     f'text-anchor="{anchor}">{text}</text>')  # fmt: skip
    every = max(1, round(count / 12))
    for index, label in enumerate(figures.labels):
        if index % every:
            continue
        x = x_of(index + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
                     f"{escape(_short(label))}</text>")  # fmt: skip
    if item.widget.chart == "line":
        for number, one in enumerate(series):
            points = " ".join(
                f"{x_of(i + 0.5):.1f},{y_of(v):.1f}"
                for i, v in enumerate(one["data"])
                if v is not None
            )
            colour = COLOURS[number % len(COLOURS)]
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"/>')  # fmt: skip
    else:
        width = slot * 0.8 / len(series)
        for number, one in enumerate(series):
            colour = COLOURS[number % len(COLOURS)]
            for index, value in enumerate(one["data"]):
                y = y_of(value)
                start = x_of(index + 0.1) + (width * number if not rtl else -width * (number + 1))
                parts.append(f'<rect x="{start:.1f}" y="{y:.1f}" width="{width:.1f}" '
                             f'height="{TOP + inner_h - y:.1f}" fill="{colour}"/>')  # fmt: skip
    parts.append(_legend(series, rtl))
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: list[dict], rtl: bool) -> str:
    parts, x = [], WIDTH - 8 if rtl else LEFT
    for number, one in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        label = escape(one["label"])
        box = x - 10 if rtl else x
        parts.append(f'<rect x="{box}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>')
        anchor, text_x = ("end", x - 14) if rtl else ("start", x + 14)
        parts.append(f'<text x="{text_x}" y="{HEIGHT - 5}" text-anchor="{anchor}">{label}</text>')
        step = 24 + 6 * len(one["label"])
        x = x - step if rtl else x + step
    return "".join(parts)


def _funnel(figures) -> str:
    """One bar per stage, centred, as wide as the deals that entered it."""
    data = figures.series[0]["data"]
    widest = max(data, default=0) or 1
    row, gap = 26, 4
    height = len(data) * (row + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" font-size="11">']  # fmt: skip
    for index, (label, value) in enumerate(zip(figures.labels, data, strict=False)):
        width = max(value / widest * (WIDTH - 200), 2)
        x, y = (WIDTH - width) / 2, index * (row + gap)
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row}" '
                     f'fill="{COLOURS[0]}" opacity="{1 - index * 0.08:.2f}"/>')  # fmt: skip
        parts.append(f'<text x="{WIDTH / 2}" y="{y + 17}" text-anchor="middle" fill="#fff" '
                     f'stroke="{COLOURS[0]}" stroke-width="0.3">{escape(_short(label))} · '
                     f"{int(value)}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)
