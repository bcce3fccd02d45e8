"""The "call a webhook" step: the record goes to another system as signed JSON; a
receiver that fails is tried again with back-off, one that refuses is not, and an
address inside the company network is refused unless the administrator allows it."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from werkzeug import Response

from accord.automation import scheduler
from accord.automation.models import Run
from accord.core.http import sign
from accord.sales.services import deal_create

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "s3cret-for-the-receiver"


@pytest.fixture
def allowed(settings, httpserver):
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = [f"{httpserver.host}:{httpserver.port}"]
    return httpserver


def hook_rule(rule_for, url):
    return rule_for(
        name="Tell the warehouse",
        actions=[{"type": "call_webhook", "params": {"url": url, "secret": SECRET}}],
    )


def test_a_new_deal_reaches_the_receiver_signed(allowed, owner, stages, rule_for):
    allowed.expect_oneshot_request("/orders", method="POST").respond_with_data("ok")
    hook_rule(rule_for, allowed.url_for("/orders"))
    deal = deal_create(actor=owner, data={"title": "12 windows", "amount": "4800"})
    # The user's request does not wait on the receiver: the worker makes the call.
    assert Run.objects.get().status == "queued" and not allowed.log
    scheduler.tick(timezone.now())
    request, _answer = allowed.log[0]
    body = request.get_data()
    stamp = request.headers["X-Accord-Timestamp"]
    assert request.headers["X-Accord-Signature"] == sign(SECRET, stamp, body)
    sent = json.loads(body)
    assert (sent["rule"], sent["record_type"], sent["record_id"]) == (
        "Tell the warehouse",
        "deal",
        deal.pk,
    )
    assert (sent["data"]["deal"]["title"], sent["data"]["deal"]["amount"]) == (
        "12 windows",
        "4800.00",
    )
    step = Run.objects.get().steps.get()
    assert step.status == "done" and "answered 200" in step.message


def test_a_failing_receiver_is_tried_again_later_and_a_refusing_one_is_not(
    allowed, owner, stages, rule_for
):
    allowed.expect_ordered_request("/flaky").respond_with_response(Response("busy", 503))
    allowed.expect_ordered_request("/flaky").respond_with_data("ok")
    hook_rule(rule_for, allowed.url_for("/flaky"))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        deal_create(actor=owner, data={"title": "Retry me"})
        scheduler.tick(start)
    run = Run.objects.get()
    assert (run.status, run.attempts) == ("queued", 1)
    later = start + timedelta(seconds=31)
    with time_machine.travel(later, tick=False):
        scheduler.tick(later)
    run.refresh_from_db()
    assert run.status == "done"
    assert list(run.steps.values_list("status", flat=True)) == ["failed", "done"]

    allowed.expect_oneshot_request("/gone").respond_with_response(Response("no", 410))
    Run.objects.all().delete()
    rule_for(
        name="Gone",
        actions=[{"type": "call_webhook", "params": {"url": allowed.url_for("/gone")}}],
    )
    deal_create(actor=owner, data={"title": "Refused"})
    scheduler.tick(timezone.now())
    gone = Run.objects.get(rule__name="Gone")
    assert gone.status == "failed" and "410" in gone.error


def test_an_address_inside_the_network_is_refused_and_nothing_is_sent(
    allowed, settings, owner, stages, rule_for
):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        hook_rule(rule_for, "http://10.0.0.7/hook")
    assert "private or local address" in str(refused.value.message_dict["actions"])
    # Allowed when the rule was saved, no longer when it runs: refused, never retried.
    hook_rule(rule_for, allowed.url_for("/hook").replace("127.0.0.1", "localhost"))
    settings.ACCORD_WEBHOOK_ALLOWED_HOSTS = []
    deal_create(actor=owner, data={"title": "Nope"})
    scheduler.tick(timezone.now())
    run = Run.objects.get()
    assert run.status == "failed" and "private or local address" in run.error
    assert not allowed.log


def test_the_receiver_is_called_outside_any_database_transaction(
    allowed, owner, stages, rule_for, monkeypatch
):
    # While Accord waits on a receiver it holds no transaction: on SQLite an open one
    # would stop every other write (a user saving a client) for as long as it waits.
    from django.db import connection

    from accord.core import http

    seen, real = [], http.post_json

    def watched(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real(*args, **kwargs)

    monkeypatch.setattr(http, "post_json", watched)
    allowed.expect_request("/orders", method="POST").respond_with_data("ok")
    hook_rule(rule_for, allowed.url_for("/orders"))
    for n in range(3):
        deal_create(actor=owner, data={"title": f"Order {n}"})
    scheduler.tick(timezone.now())
    assert seen == [False, False, False]
    assert set(Run.objects.values_list("status", flat=True)) == {"done"}
