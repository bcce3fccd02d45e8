"""Expenses: money spent on a deal (its margin) or by the company, by category."""

from collections.abc import Callable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accord.accounts.models import User
from accord.billing.models import Expense, ExpenseCategory
from accord.billing.services.common import clean_amount, clean_currency, require_write
from accord.core.timeline import timeline_record
from accord.core.visibility import ALL, WRITE, effective_level
from accord.sales.queries import deals_visible_to

# The campaigns an expense may name, those the user sees (running first): marketing, a
# floor above, fills this in; without it an expense names none.
EXPENSE_CAMPAIGNS: dict[str, Callable[[User], QuerySet]] = {}

SHIPPED_CATEGORIES = [
    gettext_noop("Materials"),
    gettext_noop("Delivery and installation"),
    gettext_noop("Advertising"),
    gettext_noop("Salaries"),
    gettext_noop("Rent and office"),
    gettext_noop("Other"),
]


def ensure_expense_categories(using: str = "default", **kwargs) -> None:
    """The shipped categories on an instance that has none (after migrate)."""
    categories = ExpenseCategory.objects.using(using)
    if not categories.exists():
        categories.bulk_create(
            ExpenseCategory(name=name, position=index)
            for index, name in enumerate(SHIPPED_CATEGORIES)
        )


@transaction.atomic
def expense_save(*, actor: User, data: dict, expense: Expense | None = None) -> Expense:
    """An expense entered or changed. One that names a campaign the actor runs (and no
    deal) is a campaign's cost: marketing records it without the money role."""
    if expense is not None:
        expense = Expense.objects.select_for_update().get(pk=expense.pk)
    if not _campaign_cost(actor, data, expense):
        require_write(actor, expense.owner if expense is not None else False)
    errors: dict = {}
    currency = clean_currency(data.get("currency", expense.currency if expense else ""), errors)
    amount = clean_amount(data.get("amount", expense.amount if expense else ""), currency, errors)
    spent_on = data.get("spent_on", expense.spent_on if expense else timezone.localdate())
    if not isinstance(spent_on, date):
        errors["spent_on"] = [_("Enter a date.")]
    category = data.get("category", expense.category if expense else None)
    if category is None:
        errors["category"] = [_("Choose a category.")]
    deal = data.get("deal", expense.deal if expense else None)
    if deal is not None and not deals_visible_to(actor).filter(pk=deal.pk).exists():
        errors["deal"] = [_("You cannot see this deal.")]
    campaign = data.get("campaign", expense.campaign if expense else None)
    if campaign is not None and not campaign_choices(actor).filter(pk=campaign.pk).exists():
        errors["campaign"] = [_("You cannot see this campaign.")]
    if errors:
        raise ValidationError(errors)
    if expense is None:
        expense = Expense(created_by=actor, owner=actor)
    else:
        expense.version += 1
    expense.spent_on, expense.amount, expense.currency = spent_on, amount, currency
    expense.category, expense.deal, expense.campaign = category, deal, campaign
    expense.supplier = str(data.get("supplier", expense.supplier) or "")[:200]
    expense.description = str(data.get("description", expense.description) or "")[:500]
    expense.source_key = str(data.get("source_key", expense.source_key) or "")[:100]
    expense.save()
    if deal is not None:
        timeline_record(
            subject=deal, kind="expense", actor=actor,
            data={"expense_id": expense.pk, "amount": str(amount), "currency": currency,
                  "category": category.name},
        )  # fmt: skip
    return expense


@transaction.atomic
def expense_delete(*, actor: User, expense: Expense) -> None:
    require_write(actor, expense.owner)
    expense.delete()


@transaction.atomic
def category_save(
    *, actor: User, name: str, category: ExpenseCategory | None = None, retired: bool = False
) -> ExpenseCategory:
    if effective_level(actor, "settings", WRITE) != ALL:
        raise PermissionDenied(_("Only administrators change expense categories."))
    name = str(name or "").strip()[:100]
    if not name:
        raise ValidationError({"name": [_("Name the category.")]})
    clash = ExpenseCategory.objects.filter(name__iexact=name)
    if category is not None:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise ValidationError({"name": [_("There is a category with this name.")]})
    if category is None:
        position = (ExpenseCategory.objects.aggregate(n=Max("position"))["n"] or 0) + 1
        category = ExpenseCategory(position=position)
    category.name, category.retired = name, retired
    category.save()
    return category


def _campaign_cost(actor: User, data: dict, expense: Expense | None) -> bool:
    """Whether the expense is (and stays) a cost of a campaign the actor may change."""
    changeable = EXPENSE_CAMPAIGNS.get("changeable")
    campaign = data.get("campaign", expense.campaign if expense else None)
    deal = data.get("deal", expense.deal if expense else None)
    if changeable is None or campaign is None or deal is not None:
        return False
    before = expense.campaign_id if expense is not None else campaign.pk
    return changeable(actor).filter(pk__in={campaign.pk, before}).count() == len(
        {campaign.pk, before}
    )


def campaign_choices(actor: User) -> QuerySet:
    """The campaigns `actor` may name on an expense (none without marketing)."""
    visible = EXPENSE_CAMPAIGNS.get("visible")
    return visible(actor) if visible else Expense.campaign.field.related_model.objects.none()
