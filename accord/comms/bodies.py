"""A message's body: the HTML kept and shown (sanitised with nh3 on the way in and again on
the way out), made from plain paragraphs when a person types them, and the plain-text
part every message carries beside it."""

import html
import re

import nh3
from django.utils.html import escape, urlize

# What an e-mail's formatting needs, and nothing that runs, loads or styles: no script,
# no style, no images (a remote image is a tracker, and the CSP refuses it anyway).
TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
BLOCK_ENDS = re.compile(r"(?i)<br\s*/?>|</(p|div|h[1-4]|li|tr|blockquote|pre)>")


def clean(markup: str) -> str:
    """HTML with only the tags and attributes above; links open safely."""
    return nh3.clean(
        markup,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def from_text(text: str) -> str:
    """Typed text as HTML: a paragraph per blank-line-separated block, line breaks kept,
    addresses made links."""
    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    paragraphs = [
        "<p>" + urlize(escape(block)).replace("\n", "<br>") + "</p>"
        for block in blocks
        if block.strip()
    ]
    return clean("\n".join(paragraphs))


def to_text(markup: str) -> str:
    """The plain-text part of an HTML body: its text, a line per block, links' addresses
    kept in brackets after their words."""
    markup = re.sub(
        r'(?is)<a\s[^>]*href="(?!mailto:)([^"]+)"[^>]*>(.*?)</a>',
        lambda m: f"{m.group(2)} [{m.group(1)}]" if m.group(1) != m.group(2) else m.group(2),
        markup,
    )
    markup = BLOCK_ENDS.sub(
        lambda m: "\n" if m.group(0).lower().startswith("<br") else "\n\n", markup
    )
    text = html.unescape(nh3.clean(markup, tags=set()))
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
