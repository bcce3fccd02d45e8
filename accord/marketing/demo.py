"""Demo marketing: three campaigns in their channels — ads that ended, a social campaign
running, recommendations without a budget — and the company's advertising of the last
months counted as their cost."""

from datetime import timedelta

from django.utils import timezone

from accord.accounts.models import User
from accord.billing.models import Expense
from accord.billing.services import expense_save
from accord.core.company import default_currency
from accord.marketing.models import Campaign, Channel
from accord.marketing.services import campaign_save


def populate() -> None:
    if Campaign.objects.exists():
        return
    author = User.objects.filter(email="marketing@example.com").first()
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    if author is None or admin is None:
        return
    today = timezone.localdate()
    currency = default_currency()
    channels = {channel.code: channel for channel in Channel.objects.all()}
    plans = [
        ("Spring windows — online ads", "ads", "spring-windows", "1500", 150, 60, True),
        ("Balconies on Instagram", "social", "insta-balconies", "800", 45, None, False),
        ("Recommend a friend", "referral", "friend", None, 200, None, False),
    ]
    made = []
    for name, channel, code, budget, started, ended, finished in plans:
        if channel not in channels:
            continue
        data = {
            "name": name, "channel": channels[channel], "code": code, "budget": budget,
            "currency": currency, "starts_on": today - timedelta(days=started),
            "ends_on": today - timedelta(days=ended) if ended else None, "retired": finished,
        }  # fmt: skip
        made.append(campaign_save(actor=author, data=data))
    # The advertising paid within a campaign's dates is its cost.
    for expense in Expense.objects.filter(category__name="Advertising", campaign=None):
        for campaign in made[:2]:
            ends = campaign.ends_on or today
            if campaign.starts_on <= expense.spent_on <= ends:
                expense_save(actor=admin, expense=expense, data={"campaign": campaign})
                break
