"""Demo marketing: three campaigns in their channels — ads that ended, a social campaign
running, recommendations without a budget — the company's advertising of the last months
counted as their cost, and the site's "Call me back" form with the requests it brought."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accord.accounts.models import User
from accord.billing.models import Expense
from accord.billing.services import expense_save
from accord.comms.models import Telephony
from accord.comms.services.calls import call_events_apply, call_events_store
from accord.comms.telephony import Signal
from accord.core.company import default_currency
from accord.marketing.models import Campaign, Channel, LeadLine, Survey, WebForm
from accord.marketing.services import campaign_save, form_save, submission_receive
from accord.marketing.services.filing import submission_file
from accord.marketing.services.lines import lead_line_save
from accord.marketing.services.surveys import default_survey, invite_create, survey_answer
from accord.sales.models import Deal
from accord.sales.services import deal_update, deal_win


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


VISITS = [
    (
        "Irina Sokolova",
        "+7 916 555-01-10",
        "google",
        "cpc",
        "spring-windows",
        "Three windows, 1300×1400",
    ),
    ("Lev Orlov", "+7 916 555-01-11", "instagram", "social", "insta-balconies", "Balcony glazing"),
    ("Marta Kim", "+7 916 555-01-12", "instagram", "social", "insta-balconies", ""),
    ("Oleg Petrov", "+7 916 555-01-13", "", "", "", "Can you measure on Saturday?"),
]


POSTER_NUMBER = "+74955550177"  # on the balcony campaign's Instagram profile
POSTER_CALLERS = [("+79035550171", 12), ("+79035550172", 3)]  # (number, days ago)


def populate_lines() -> None:
    """The balcony campaign has a number of its own, and two people who did not know
    the shop called it (and were answered): they count as the campaign's leads. Other
    new callers count as "Phone call", chats as "Messenger"."""
    if LeadLine.objects.exists():
        return
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    campaign = Campaign.objects.filter(code="insta-balconies").first()
    if admin is None or campaign is None:
        return
    lead_line_save(actor=admin, data={"number": POSTER_NUMBER, "channel": campaign.channel,
                                      "campaign": campaign})  # fmt: skip
    pbx = Telephony.objects.filter(active=True).order_by("pk").first()
    if pbx is None:
        return
    now = timezone.now()
    for n, (number, days) in enumerate(POSTER_CALLERS):
        rang = now - timedelta(days=days, hours=2)
        signals = [
            Signal(key=f"poster-{n}:{kind}", call_id=f"poster-{n}", kind=kind, direction="in",
                   number=number, line=POSTER_NUMBER, at=at.isoformat(), **more)
            for kind, at, more in [  # answered at the first salesperson's extension
                ("ringing", rang, {"extension": "101"}),
                ("answered", rang + timedelta(seconds=9), {"extension": "101"}),
                ("ended", rang + timedelta(seconds=249),
                 {"extension": "101", "duration": 240, "answered": True}),
            ]
        ]  # fmt: skip
        call_events_apply(call_events_store(telephony=pbx, signals=signals, at=rang))


def populate_forms() -> None:
    """The site's form and a few requests through it, as visitors would send them."""
    if WebForm.objects.exists():
        return
    admin = User.objects.filter(role__slug="administrator", is_active=True).first()
    if admin is None:
        return
    fields = [{"key": key, "required": key in ("name", "phone")}
              for key in ("name", "phone", "email", "message")]  # fmt: skip
    form = form_save(actor=admin, data={
        "name": "Call me back", "fields": fields, "creates_deal": True,
        "channel": Channel.objects.filter(code="site").first(),
        "consent_text": "I agree to receive offers by e-mail and SMS.",
        "thanks_text": "Thank you! A manager calls you back within 15 minutes."})  # fmt: skip
    currency = default_currency()
    for number, (name, phone, source, medium, campaign, message) in enumerate(VISITS):
        came_from = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign,
                     "landing_page": "https://okna.example/balconies"}  # fmt: skip
        received = submission_receive(
            form=form, values={"name": name, "phone": phone, "message": message},
            came_from=came_from, address=f"203.0.113.{number}", origin="", own_host="",
        )  # fmt: skip
        if received.submission is None:  # turned away (the same address too often)
            continue
        submission_file(submission_id=received.submission.pk)  # as the worker files it
        received.submission.refresh_from_db()
        if number == 1 and received.submission.deal is not None:  # the Instagram balcony, sold
            deal = deal_update(actor=admin, deal=received.submission.deal,
                               data={"amount": Decimal("2400"), "currency": currency})  # fmt: skip
            deal_win(actor=admin, deal=deal)


ANSWERS = [
    (10, "Fast measurement, neat installation. Thank you!"),
    (9, ""),
    (10, "Recommended you to my neighbours already."),
    (8, "Good windows; the delivery was a day late."),
    (4, "The installer left dust everywhere and nobody called back."),
    (9, "Polite manager, fair price."),
    (7, ""),
]


def populate_surveys() -> None:
    """The survey after a purchase, asked of the clients of won deals, with their answers
    (a low one made a task for the head of sales)."""
    if Survey.objects.exists():
        return
    author = User.objects.filter(email="marketing@example.com").first()
    if author is None:
        return
    survey = default_survey(author)
    won = Deal.objects.filter(status=Deal.WON, person__isnull=False).order_by("-closed_at")
    for deal, (score, comment) in zip(won[: len(ANSWERS)], ANSWERS, strict=False):
        invite = invite_create(survey=survey, person=deal.person, deal=deal)
        survey_answer(invite=invite, score=score, comment=comment)
    for deal in won[len(ANSWERS) : len(ANSWERS) + 3]:  # asked, not answered yet
        invite_create(survey=survey, person=deal.person, deal=deal)
