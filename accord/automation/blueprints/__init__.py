"""Ready-made rule sets an administrator installs in one go (Settings → Automation, or
`accord blueprint install NAME`) and then adjusts. They are installed switched off — an
e-mail or a task for the whole team should start when someone has looked at them.

- window-shop: the requirements' window shop, from a request left on the web site (sent
  to the first rule's address) to the head of sales' report, as eight rules on a
  "Windows" pipeline; what they need is made when missing: the pipeline and its stages,
  the roles "Measurer" and "Installer", the deal's fields (number of windows, sizes,
  installation date) and the "Window sales" team whose lead rule gives requests out;
- birthday-greeting: an e-mail on each client's birthday, with marketing consent;
- holiday-greeting: an e-mail on each holiday of the client's country (automation/holidays.py),
  with marketing consent, the first list of holidays made for the company's country;
- new-lead-sla: a new lead nobody has called within 30 minutes goes to the head;
- invoice-overdue: an invoice past its due date gets a reminder task and tells the head;
- deal-rotting: a deal past its stage's limit gets a task for its owner.
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation.blueprints import everyday, window_shop
from accord.automation.models import Rule
from accord.automation.services import require_automation, rule_save


@dataclass(frozen=True)
class Blueprint:
    name: str
    label: Any
    description: Any


BLUEPRINTS = {
    b.name: b
    for b in [
        Blueprint(
            "window-shop",
            gettext_lazy("The window shop"),
            gettext_lazy(
                "A request from the web site (sent to the first rule's address) becomes a client "
                "and a deal, which gets a call within 15 minutes (or the head hears of it), the "
                "call a measurement task for the measurer, the measurements a price task for the "
                "manager, the contract stage the contract, its invoice and a task, the paid "
                "invoice installation, installation a notice and a task for the installer, a won "
                "deal a report to the head of sales."
            ),
        ),
        Blueprint(
            "birthday-greeting",
            gettext_lazy("Birthday greeting"),
            gettext_lazy(
                "Every morning, an e-mail to each client whose birthday it is — only to those who "
                "agree to marketing."
            ),
        ),
        Blueprint(
            "holiday-greeting",
            gettext_lazy("Holiday greeting"),
            gettext_lazy(
                "On each holiday of Settings → Automation → Holidays, an e-mail to the clients of "
                "its country, in their language — once a year each, only to those who agree to "
                "offers and news."
            ),
        ),
        Blueprint(
            "new-lead-sla",
            gettext_lazy("New lead: call within 30 minutes"),
            gettext_lazy(
                "A task to call each new lead; if nobody has been in touch 30 minutes later, the "
                "head of the owner's team is told."
            ),
        ),
        Blueprint(
            "invoice-overdue",
            gettext_lazy("Overdue invoices"),
            gettext_lazy(
                "An invoice of a deal not paid by its due date: a task for the deal's owner to "
                "remind the client, and a notice to the head of the owner's team."
            ),
        ),
        Blueprint(
            "deal-rotting",
            gettext_lazy("Stuck deals"),
            gettext_lazy(
                "A deal that stays in a stage longer than the stage's limit gets a task for its "
                "owner to move it on or close it."
            ),
        ),
        Blueprint(
            "feedback",
            gettext_lazy("Feedback after a sale"),
            gettext_lazy(
                "A day after a deal is won, its client gets a link to a short survey (would they "
                "recommend us, 0–10, and a comment) by e-mail; a low score becomes a task for the "
                "head of the manager's team to call them."
            ),
        ),
    ]
}


RULES = {
    "window-shop": window_shop.window_shop,
    "feedback": everyday.feedback,
    "invoice-overdue": everyday.overdue,
    "birthday-greeting": everyday.birthday,
    "holiday-greeting": everyday.holiday,
    "new-lead-sla": everyday.new_lead,
    "deal-rotting": everyday.rotting,
}


@transaction.atomic
def install(*, actor, name: str) -> list[Rule]:
    """Add the blueprint's rules, switched off (a second install adds them again)."""

    require_automation(actor)
    if name not in BLUEPRINTS:
        raise ValidationError(
            {
                "blueprint": [
                    _("There is no blueprint %(name)s: choose one of %(names)s.")
                    % {"name": name, "names": ", ".join(BLUEPRINTS)}
                ]
            }
        )
    return [
        rule_save(actor=actor, data={**data, "enabled": False, "blueprint": name})
        for data in RULES[name](actor)
    ]
