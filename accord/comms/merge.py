"""What an e-mail template can show (`{{ client.first_name }}`, `{{ deal.title }}`,
`{{ user.name }}`, `{{ our_company.name }}`): the same vocabulary as automation's texts.

The records' plain views are automation's (`automation/records.py`), which sits above
comms: it registers them here when it is ready (a hook, as the layers want), so a
template, a mailing and a rule's step read a client the same way."""

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from accord.core.company import company

# (subject, ids) -> {id: view}; automation's records.views, registered in its ready().
RECORD_VIEWS: list[Callable[[str, list[int]], dict[int, dict[str, Any]]]] = []
# subject -> [(group, [(tag, label)])]; automation's pickers.merge_fields.
MERGE_FIELDS: list[Callable[[str], list]] = []


def views(subject: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The records' views by id (a query per table, not per record)."""
    if not RECORD_VIEWS or not ids:
        return {}
    return RECORD_VIEWS[0](subject, list(ids))


def shared_values(user=None) -> dict[str, Any]:
    """What every message shows whoever it goes to: who writes, and our company."""
    profile = company()
    writer = {"name": "", "email": ""}
    if user is not None and getattr(user, "pk", None):
        writer = {"name": user.full_name or user.email, "email": user.email}
    return {
        "user": writer,
        "our_company": {"name": profile.name, "address": profile.address},
    }


def values_for(*, person=None, company_record=None, deal=None, user=None) -> dict[str, Any]:
    """The values of one message's records: the deal's view (with its client), else the
    person's or the company's."""
    values: dict[str, Any] = {}
    if deal is not None:
        values = views("deal", [deal.pk]).get(deal.pk, {})
    elif person is not None:
        values = views("person", [person.pk]).get(person.pk, {})
    elif company_record is not None:
        values = views("company", [company_record.pk]).get(company_record.pk, {})
    return {**values, **shared_values(user)}


def fields() -> list:
    """The "Insert a field" menu's groups: a deal, its client, the owner, who writes and
    our company."""
    groups = list(MERGE_FIELDS[0]("deal")) if MERGE_FIELDS else []
    groups.append(
        (_("Who writes"), [("{{ user.name }}", _("Name")), ("{{ user.email }}", _("E-mail"))])
    )
    groups.append(
        (
            _("Our company"),
            [("{{ our_company.name }}", _("Name")), ("{{ our_company.address }}", _("Address"))],
        )
    )
    return groups
