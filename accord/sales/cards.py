"""A deal's card on the board, made in Python.

A board opens with up to 400 cards (50 for each of 8 columns). Through the template
engine a card cost about 0.2 ms (a dozen variables, filters and tags each), 80 ms a
board; format_html does the same card, escaped the same way, in a tenth of that
(docs/performance.md, "The funnel and the daily work").
"""

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext


def card_html(deal, base: str, *, oob: bool = False) -> SafeString:
    """The <li> of one card; `deal` carries `days`, `rotting` and `has_next_step`. With
    `oob`, the card replaces its old self on the board when htmx swaps it in."""
    client = deal.person or deal.company or "—"
    amount = number_format(deal.amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    days = ngettext("%(days)s day", "%(days)s days", deal.days) % {"days": deal.days}
    owner = ""
    if deal.owner_id:
        owner = format_html(
            '<span class="avatar avatar-xs" title="{0}" aria-label="{0}">{1}</span>',
            deal.owner,
            deal.owner.initials,
        )
    warnings = []
    if deal.rotting:
        warnings.append(
            format_html(
                '<p class="deal-card-warning">{}</p>', gettext("Sitting too long in this stage")
            )
        )
    if not getattr(deal, "has_next_step", True):
        warnings.append(
            format_html(
                '<p class="deal-card-warning deal-card-no-step">{}</p>',
                gettext("No next step planned"),
            )
        )
    menu = format_html(
        '<details class="menu deal-card-menu" hx-get="{0}{1}/stages/" hx-trigger="toggle once" '
        'hx-target="find .menu-panel"><summary class="button button-quiet button-icon" '
        'aria-label="{2}" title="{2}">⋯</summary><div class="menu-panel" role="menu">'
        '<p class="menu-caption muted">{3}</p></div></details>',
        base, deal.pk, gettext("Move to another stage"), gettext("Loading…"),
    )  # fmt: skip
    return format_html(
        '<li class="deal-card{}" data-deal="{}" data-version="{}"{}>{}'
        '<a class="deal-card-title" href="{}{}/">{}</a>'
        '<p class="muted deal-card-client">{}</p>'
        '<p class="deal-card-foot"><span class="money">{} {}</span>'
        '<span class="muted" title="{}">{}</span>{}</p>{}</li>',
        " is-rotting" if deal.rotting else "",
        deal.pk,
        deal.version,
        format_html(" hx-swap-oob=\"outerHTML:.deal-card[data-deal='{}']\"", deal.pk)
        if oob
        else "",
        menu,
        base,
        deal.pk,
        deal.title,
        client,
        amount,
        deal.currency,
        gettext("Days in this stage"),
        days,
        owner,
        mark_safe("".join(warnings)),  # noqa: S308 (each part made by format_html)
    )
