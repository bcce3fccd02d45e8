"""Copies the front-end libraries from node_modules into static/vendor (git-ignored).

Run by `make assets` after `npm ci`. Third-party code is never committed: it comes
from the npm registry at install time, pinned by package-lock.json.
"""

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

FILES = {
    "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",
    "chart.js/dist/chart.umd.min.js.map": "chart.umd.min.js.map",
    "sortablejs/Sortable.min.js": "Sortable.min.js",
}


# The lucide icons the interface uses, gathered into one sprite (<use href="#name">).
ICONS = [
    "sun", "users", "building-2", "handshake", "list-checks", "inbox", "chart-column",
    "megaphone", "settings", "search", "plus", "bell", "x", "check", "chevron-down",
    "chevron-right", "chevron-left", "log-out", "user", "phone", "mail", "calendar",
    "clock", "tag", "trash-2", "pencil", "filter", "download", "upload", "ellipsis",
    "triangle-alert", "message-square", "map-pin", "circle-check", "phone-incoming",
    "phone-outgoing", "zap", "mail-x", "phone-missed", "play", "file-text", "paperclip",
    "receipt", "banknote", "wallet", "star", "printer", "arrow-up", "arrow-down",
    "layout-dashboard", "trending-up", "trending-down", "grip-vertical",
]  # fmt: skip


# Noto Sans renders Latin, Cyrillic, Hebrew and Armenian alike (UI.md), served by us.
FONT_PACKAGES = ["noto-sans", "noto-sans-hebrew", "noto-sans-armenian"]
FONT_WEIGHTS = [400, 500, 600, 700]


def build() -> None:
    if not NODE_MODULES.is_dir():
        sys.exit("accord assets: node_modules is missing; run `npm ci` first.")
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in FILES.items():
        shutil.copyfile(NODE_MODULES / source, VENDOR / target)
    (VENDOR / "icons.svg").write_text(sprite(ICONS))
    (VENDOR / "fonts.css").write_text(fonts())


def fonts() -> str:
    """One stylesheet of @font-face rules; each refers to a woff2 copied beside it."""
    target = VENDOR / "fonts"
    target.mkdir(exist_ok=True)
    rules = []
    for package in FONT_PACKAGES:
        folder = NODE_MODULES / "@fontsource" / package
        for weight in FONT_WEIGHTS:
            css = (folder / f"{weight}.css").read_text()
            for name in set(re.findall(r"url\(\./files/([^)]+)\)", css)):
                shutil.copyfile(folder / "files" / name, target / name)
            rules.append(css.replace("url(./files/", "url(fonts/"))
    return "\n".join(rules)


def sprite(names: list[str]) -> str:
    symbols = []
    for name in names:
        svg = (NODE_MODULES / "lucide-static" / "icons" / f"{name}.svg").read_text()
        body = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.S)
        if body is None:
            sys.exit(f"accord assets: cannot read the icon {name}")
        inner = " ".join(body.group(1).split())
        symbols.append(f'<symbol id="{name}" viewBox="0 0 24 24">{inner}</symbol>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
        "<!-- Icons from lucide-static, ISC license, https://lucide.dev -->"
        + "".join(symbols)
        + "</svg>\n"
    )


if __name__ == "__main__":
    build()
    print(f"Front-end assets copied into {VENDOR.relative_to(ROOT)}")
