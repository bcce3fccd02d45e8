"""Numbers and bots tied to channels: a client whose first call comes to an advert's own
number, or whose first message comes through a bot, counts under that channel and
campaign — their leads, and the deals made for them later — like a web form's visitor."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accord.accounts.services import token_create
from accord.comms.messengers import MESSAGE, ChatSignal
from accord.comms.services.calls import telephony_save
from accord.comms.services.chats import chat_events_drain, chat_events_store
from accord.comms.services.messengers import messenger_save
from accord.contacts.models import Person
from accord.contacts.services import person_create
from accord.marketing.models import Channel, LeadLine, Touch
from accord.marketing.queries import campaign_results, channel_results
from accord.marketing.services import campaign_save
from accord.marketing.services.lines import lead_line_save
from accord.sales.services import deal_create, deal_win
from tests.comms.test_calls import SECRET, deliver, incoming
from tests.conftest import ApiClient

ADVERT_NUMBER = "+74951112233"  # the number test_calls' PBX says was called
pytestmark = pytest.mark.django_db(transaction=True)  # touches follow the committed events


@pytest.fixture
def pbx(admin):
    return telephony_save(actor=admin, data={"name": "Office PBX", "secret": SECRET})


@pytest.fixture
def posters(admin):
    return campaign_save(actor=admin, data={
        "name": "Metro posters", "channel": channel("ads"), "currency": "EUR",
    })  # fmt: skip


def channel(code: str) -> Channel:
    return Channel.objects.get(code=code)


def results_today(user) -> dict:
    today = timezone.localdate()
    return {str(ch) if ch else None: r for ch, r in channel_results(user, today, today)}


def test_a_new_caller_on_an_adverts_number_counts_under_its_campaign(admin, pbx, posters):
    lead_line_save(actor=admin, data={
        "number": "+7 (495) 111-22-33", "channel": channel("ads"), "campaign": posters,
    })  # fmt: skip
    assert LeadLine.objects.get().number == ADVERT_NUMBER  # kept as E.164

    deliver(pbx, [incoming("c1", "ringing"), incoming("c1", "missed")])

    caller = Person.objects.get()
    first = Touch.objects.get(person=caller, kind=Touch.FIRST)
    assert (first.channel, first.campaign, first.medium) == (channel("ads"), posters, "call")
    assert Touch.objects.filter(person=caller, kind=Touch.LAST, campaign=posters).exists()
    assert results_today(admin)["Online ads"].leads == 1
    assert campaign_results([posters])[posters.pk].leads == 1

    # Called back, the lead buys: the deal made for them counts for the campaign too.
    deal = deal_create(actor=admin, data={"title": "Windows", "person": caller, "amount": "900"})
    deal_win(actor=admin, deal=deal)
    found = campaign_results([posters])[posters.pk]
    assert (found.deals, found.won, found.revenue) == (1, 1, {deal.currency: deal.amount})
    assert results_today(admin)["Online ads"].won == 1


def test_a_call_to_another_number_counts_as_a_phone_call_and_a_known_client_keeps_theirs(
    admin, pbx
):
    deliver(pbx, [incoming("c1", "ringing", to="+74950000000"), incoming("c1", "missed")])
    caller = Person.objects.get()
    assert Touch.objects.get(person=caller, kind=Touch.FIRST).channel == channel("phone")

    known = person_create(actor=admin, data={"first_name": "Vera", "phones": ["+79160000001"]})
    deliver(pbx, [incoming("c2", "ringing", number="+79160000001"), incoming("c2", "missed")])
    assert not Touch.objects.filter(person=known).exists()  # no new lead: no new touch
    assert results_today(admin)["Phone call"].leads == 1


def test_a_new_client_writing_to_a_bot_counts_under_the_bots_channel(admin):
    bot = messenger_save(actor=admin, data={
        "name": "Insta bot", "provider": "telegram", "token": "123456:bot-token",
    })  # fmt: skip
    social = channel("social")
    lead_line_save(actor=admin, data={"messenger": bot, "channel": social})
    signal = ChatSignal(key="m:1", kind=MESSAGE, address="555", name="Dan Levi", text="Hi")
    chat_events_store(messenger=bot, signals=[signal], at=timezone.now())
    assert chat_events_drain(bot.pk) == 1

    dan = Person.objects.get(first_name="Dan")
    touch = Touch.objects.get(person=dan, kind=Touch.FIRST)
    assert (touch.channel, touch.medium) == (social, "chat")
    assert results_today(admin)["Social networks"].leads == 1


def test_what_is_not_a_line_is_refused_with_its_reason(admin, owner, posters):
    ads = channel("ads")
    cases = [
        ({"number": "", "channel": ads}, "number"),  # neither a number nor a bot
        ({"number": "12", "channel": ads}, "number"),  # not a phone number
        ({"number": "+74951112233"}, "channel"),  # no channel
        ({"number": "+74951112233", "channel": channel("social"), "campaign": posters},
         "campaign"),  # the campaign runs in another channel
    ]  # fmt: skip
    for data, field in cases:
        with pytest.raises(ValidationError) as refused:
            lead_line_save(actor=admin, data=data)
        assert field in refused.value.message_dict, data
    lead_line_save(actor=admin, data={"number": "+74951112233", "channel": ads})
    with pytest.raises(ValidationError) as refused:
        lead_line_save(actor=admin, data={"number": "+7 495 111 22 33", "channel": ads})
    assert "another channel" in refused.value.message_dict["number"][0]
    with pytest.raises(PermissionDenied):
        lead_line_save(actor=owner, data={"number": "+74951112234", "channel": ads})
    assert LeadLine.objects.count() == 1


def test_the_admin_ties_a_number_on_the_campaigns_page_and_a_manager_cannot(
    admin_client, manager_client, posters
):
    page = admin_client.get("/marketing/campaigns/").content.decode()
    assert "Numbers and bots" in page
    answer = admin_client.post("/marketing/lines/", {
        "number": "+7 495 111-22-33", "channel": channel("ads").pk, "campaign": posters.pk,
    })  # fmt: skip
    assert answer.status_code == 302
    page = admin_client.get("/marketing/campaigns/").content.decode()
    assert "Metro posters" in page and "111-22-33" in page
    line = LeadLine.objects.get()

    assert manager_client.post("/marketing/lines/", {"number": "+74950000001"}).status_code == 404
    gone = manager_client.post(f"/marketing/lines/{line.pk}/delete/")
    assert gone.status_code == 404 and LeadLine.objects.exists()
    bad = admin_client.post(
        "/marketing/lines/", {"number": "12", "channel": channel("ads").pk}, follow=True
    )
    assert "Numbers and bots" in bad.content.decode() and LeadLine.objects.count() == 1
    (said,) = bad.context["messages"]
    assert said.level_tag == "error" and str(said) in bad.content.decode()
    admin_client.post(f"/marketing/lines/{line.pk}/delete/")
    assert not LeadLine.objects.exists()


def test_an_old_lead_calling_again_after_a_month_keeps_their_first_touch(admin, pbx):
    deliver(pbx, [incoming("c1", "ringing"), incoming("c1", "missed")])
    caller = Person.objects.get()
    first = Touch.objects.get(person=caller, kind=Touch.FIRST)
    Touch.objects.filter(pk=first.pk).update(at=first.at - timedelta(days=30))
    deliver(pbx, [incoming("c2", "ringing"), incoming("c2", "missed")])
    assert Touch.objects.filter(person=caller).count() == 2  # first and last, once each


def test_the_api_ties_a_number_lists_it_and_unties_it(admin, api, posters):
    _token, key = token_create(user=admin, name="tests")
    admin_api = ApiClient(key)
    url = "/api/v1/lead-lines"
    ads = str(channel("ads").pk)
    made = admin_api.post_json(url, {"number": "+7 495 111 22 33", "channel": ads,
                                     "campaign": str(posters.pk)})  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["number"] == ADVERT_NUMBER
    assert made.json()["campaign"] == str(posters.pk) and made.json()["messenger"] is None
    assert [line["id"] for line in api.get(url).json()] == [made.json()["id"]]  # a manager reads

    social = str(channel("social").pk)
    wrong = admin_api.post_json(url, {"number": "+74951112299", "channel": social,
                                      "campaign": str(posters.pk)})  # fmt: skip
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["campaign"]
    unknown = admin_api.post_json(url, {"number": "+74951112299", "channel": "999999"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "channel"
    refused = api.post_json(url, {"number": "+74951112299", "channel": str(channel("ads").pk)})
    assert refused.status_code == 403
    assert api.delete(f"{url}/{made.json()['id']}").status_code == 403
    assert admin_api.delete(f"{url}/{made.json()['id']}").status_code == 204
    assert admin_api.get(url).json() == [] and LeadLine.objects.count() == 0
