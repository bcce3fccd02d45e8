"""The win probability learned from the company's own closed deals: nothing guessed below
30 won and 30 lost, a model that tells them apart when the history says something, each
open deal scored with the factors that weigh most, the forecast's second method, the deal
page, and the nightly retraining."""

import datetime
from decimal import Decimal

import numpy as np
from django.test import Client
from django.utils import timezone

from accord.reports import learning
from accord.reports.catalog import REPORTS
from accord.reports.models import WinModel
from accord.reports.periods import Period
from accord.reports.queries import scope_for
from accord.sales.models import Deal, DealScore
from accord.sales.services import deal_create, deal_lose, deal_move, deal_win
from accord.work.services import activity_log
from tests.conftest import log_in


def history(admin, stages, reason, *, won: int, lost: int) -> None:
    """Won deals got to the offer with three calls; lost ones stayed new, without a call."""
    for index in range(won + lost):
        deal = deal_create(actor=admin, data={"title": f"D{index}", "amount": Decimal(1000)})
        if index < won:
            deal = deal_move(actor=admin, deal=deal, stage=stages["Offer"])
            for _call in range(3):
                activity_log(actor=admin, data={"kind": "call", "deal": deal})
            deal_win(actor=admin, deal=deal)
        else:
            deal_lose(actor=admin, deal=deal, reason=reason)


def test_below_thirty_of_each_nothing_is_guessed(admin, stages, too_expensive):
    history(admin, stages, too_expensive, won=12, lost=40)
    deal_create(actor=admin, data={"title": "Open", "amount": Decimal(500)})
    model = learning.train()
    assert (model.won, model.lost, model.weights) == (12, 40, {})
    assert not DealScore.objects.exists()
    assert "at least 30 won and 30 lost" in learning.described(model)
    ahead = Period.named("next_6_months")
    forecast = REPORTS["forecast"].compute(scope_for(admin, period=ahead))
    assert [s["key"] for s in forecast.series] == ["expected", "weighted"]


def test_the_history_is_learned_and_each_open_deal_scored(admin, stages, too_expensive):
    history(admin, stages, too_expensive, won=35, lost=35)
    hot = deal_create(
        actor=admin,
        data={"title": "Hot", "amount": Decimal(1000), "expected_close_date": timezone.localdate()},
    )
    hot = deal_move(actor=admin, deal=hot, stage=stages["Offer"])
    for _call in range(3):
        activity_log(actor=admin, data={"kind": "call", "deal": hot})
    deal_create(
        actor=admin,
        data={
            "title": "Cold",
            "amount": Decimal(1000),
            "expected_close_date": timezone.localdate(),
        },
    )
    model = learning.train()
    assert (model.won, model.lost) == (35, 35) and model.auc > 0.9
    scores = {s.deal.title: s for s in DealScore.objects.select_related("deal")}
    assert set(scores) == {"Hot", "Cold"}
    assert scores["Hot"].probability > 0.8 > 0.2 > scores["Cold"].probability
    top = {factor["key"] for factor in scores["Hot"].factors}
    assert top & {"progress", "call"} and len(scores["Hot"].factors) == 3
    words = dict(scores["Hot"].explained())
    assert any(text.startswith("Calls logged: 3") and up for text, up in words.items())
    forecast = REPORTS["forecast"].compute(scope_for(admin, period=Period.named("next_6_months")))
    assert [s["key"] for s in forecast.series] == ["expected", "weighted", "learned"]
    month = next(r for r in forecast.rows if r["deals"])
    expected = Decimal(1000) * Decimal(str(scores["Hot"].probability + scores["Cold"].probability))
    assert abs(month["learned"] - expected) < 1
    client = Client()
    assert log_in(client, admin.email)
    page = client.get(f"/deals/{hot.pk}/").content.decode()
    assert 'data-testid="win-probability"' in page and f"{scores['Hot'].percent} %" in page
    deal_win(actor=admin, deal=Deal.objects.get(pk=hot.pk))
    assert 'data-testid="win-probability"' not in client.get(f"/deals/{hot.pk}/").content.decode()


def test_the_worker_learns_once_a_night_from_two_o_clock(admin, stages, too_expensive):
    zone = timezone.get_default_timezone()
    night = datetime.datetime(2026, 12, 7, 1, 30, tzinfo=zone)
    learning.tick(night)
    assert not WinModel.objects.exists()  # not before two
    learning.tick(night + datetime.timedelta(hours=1))
    first = WinModel.objects.get(kind="deal")
    learning.tick(night + datetime.timedelta(hours=5))
    assert WinModel.objects.get(kind="deal").trained_at == first.trained_at  # once a night
    learning.tick(night + datetime.timedelta(days=1, hours=1))
    assert WinModel.objects.get(kind="deal").trained_at > first.trained_at


def test_the_fit_and_its_measure():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4000, 3))
    truth = np.array([2.0, -1.0, 0.0])
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ truth + 0.5)))).astype(float)
    weights, bias = learning.fit(x, y, penalty=0.01)
    assert np.allclose(weights, truth, atol=0.2) and abs(bias - 0.5) < 0.2
    assert learning.auc(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1.0, 1.0, 0.0, 0.0])) == 1.0
    assert learning.auc(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == 0.5  # a tie is half
    assert learning.auc(np.array([0.5]), np.array([1.0])) is None


def test_a_lead_s_chance_to_become_a_client(admin):
    from datetime import timedelta

    from accord.contacts.models import LeadScore, Person
    from accord.contacts.services import person_create

    past = timezone.now() - timedelta(days=90)
    for index in range(70):
        keen = index < 35
        person = person_create(
            actor=admin,
            data={
                "first_name": f"Lead{index}",
                "emails": [f"l{index}@example.com"],
                "phones": [f"+3526619{index:05d}"] if keen else [],
            },
        )
        if keen:
            deal_win(
                actor=admin, deal=deal_create(actor=admin, data={"title": "W", "person": person})
            )
        Person.objects.filter(pk=person.pk).update(created_at=past)
    fresh = person_create(actor=admin, data={"first_name": "New", "phones": ["+352661900999"]})
    quiet = person_create(actor=admin, data={"first_name": "Quiet", "emails": ["q@example.com"]})
    model = learning.train_leads()
    assert (model.won, model.lost) == (35, 35) and model.auc > 0.9
    scores = {s.person_id: s for s in LeadScore.objects.all()}
    bought = set(Person.objects.filter(deals__status="won").values_list("pk", flat=True))
    assert len(scores) == 37 and {fresh.pk, quiet.pk} <= set(scores) and not bought & set(scores)
    assert scores[fresh.pk].probability > 0.8 > 0.2 > scores[quiet.pk].probability
    assert ("Left a phone number", True) in scores[fresh.pk].explained()
    client = Client()
    assert log_in(client, admin.email)
    page = client.get(f"/clients/people/{fresh.pk}/").content.decode()
    assert 'data-testid="lead-score"' in page
