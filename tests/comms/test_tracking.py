"""Open and click tracking, for templates that ask for it: what the reader's mail program
gets (read back from a real SMTP server) — an invisible image and links through Accord
in the HTML, the plain text and the unsubscribe link untouched, nothing at all from an
untracked template — then the image loaded and the links followed by a stranger with no
login and no cookie: counted, redirected to the original, never to a forged target; the
counts on the message, the client's timeline and the mailing's page and API."""

import re
import struct
from html import unescape

import pytest
from django.test import Client

from accord.automation.services import rule_save
from accord.comms import delivery, mailings, tracking
from accord.comms.models import LinkClick, Message
from accord.comms.services import mailing_save, mailing_start, template_save
from accord.contacts.services import person_create, segment_save
from accord.core.models import OutboxEvent
from tests.comms.test_api import admin_api
from tests.comms.test_mailings import part

BASE = "http://127.0.0.1:8000"
SHOP = "https://window-shop.example/spring?from=mail&size=L"


def make_template(admin, *, tracked: bool, name="Spring offer"):
    return template_save(
        actor=admin,
        name=name,
        subject="Spring offer for {{ client.first_name }}",
        html=f'<p>Dear {{{{ client.first_name }}}},</p><p><a href="{SHOP.replace("&", "&amp;")}">'
        'See the offer</a> or <a href="mailto:sales@window-shop.example">write to us</a>.</p>',
        marketing=True,
        tracked=tracked,
    )


def client(owner, first: str):
    return person_create(actor=owner, data={
        "first_name": first, "last_name": "Client", "emails": [f"{first.lower()}@example.com"],
        "marketing_consent": True, "tags": ["news"],
    })  # fmt: skip


def send_mailing(owner, template, mailbox, *people):
    segment = segment_save(actor=owner, name=f"News {template.pk}", record_type="person",
                           filters={"tag": "news"})  # fmt: skip
    mailing = mailing_save(actor=owner, name="Spring", template=template, segment=segment,
                           mailbox=mailbox)  # fmt: skip
    mailing_start(actor=owner, mailing=mailing)
    assert mailings.send(mailing.pk) == len(people)
    return mailing


def links(html: str) -> list[str]:
    return [unescape(found) for found in re.findall(r'<a\s[^>]*href="([^"]*)"', html)]


def pixel_of(html: str) -> str:
    [found] = re.findall(r'<img src="([^"]*)" width="1" height="1"', html)
    return unescape(found).removeprefix(BASE)


def through_accord(html: str) -> str:
    [found] = [link for link in links(html) if link.startswith(f"{BASE}/t/c/")]
    return found.removeprefix(BASE)


@pytest.fixture
def tracked_mail(admin, owner, mailbox, sink):
    """A tracked mailing to Anna and Boris, as it reached them."""
    anna, boris = client(owner, "Anna"), client(owner, "Boris")
    mailing = send_mailing(owner, make_template(admin, tracked=True), mailbox, anna, boris)
    received = {message["To"]: part(message, "text/html") for message in sink}
    return {"mailing": mailing, "anna": anna, "boris": boris, "html": received}


def test_a_tracked_message_carries_the_image_and_its_web_links_pass_through_accord(
    tracked_mail, sink
):
    html = tracked_mail["html"]["anna@example.com"]
    message = Message.objects.get(to=["anna@example.com"])

    assert pixel_of(html).startswith("/t/o/") and pixel_of(html).endswith(".gif")
    found = links(html)
    assert SHOP not in found and through_accord(html).startswith("/t/c/")
    assert "mailto:sales@window-shop.example" in found  # never rewritten
    unsubscribe_link = sink[0]["List-Unsubscribe"].strip("<>")
    assert any(link.startswith(f"{BASE}/u/") for link in found)  # the unsubscribe link as is
    text = part(next(m for m in sink if m["To"] == "anna@example.com"), "text/plain")
    assert SHOP in text and "/t/c/" not in text and "/t/o/" not in text  # plain text untouched
    assert unsubscribe_link.startswith(f"{BASE}/u/")
    # What Accord keeps and shows is the message as written.
    assert (
        message.tracked
        and "/t/" not in message.html
        and SHOP.replace("&", "&amp;") in (message.html)
    )
    # Each reader's message has its own addresses.
    assert pixel_of(tracked_mail["html"]["boris@example.com"]) != pixel_of(html)


def test_an_untracked_template_sends_its_html_exactly_as_before(admin, owner, mailbox, sink):
    anna = client(owner, "Anna")
    send_mailing(owner, make_template(admin, tracked=False), mailbox, anna)

    [received] = sink
    message = Message.objects.get()
    assert not message.tracked
    assert part(received, "text/html").replace("\r\n", "\n").strip() == message.html.strip()
    assert "<img" not in message.html and SHOP in links(message.html)


def test_opening_answers_a_gif_without_login_or_cookie_and_counts_each_load(tracked_mail):
    address = pixel_of(tracked_mail["html"]["anna@example.com"])
    stranger = Client(enforce_csrf_checks=True)

    answer = stranger.get(address)

    assert answer.status_code == 200 and answer["Content-Type"] == "image/gif"
    assert answer.content[:6] == b"GIF89a"
    assert struct.unpack("<HH", answer.content[6:10]) == (1, 1)  # 1×1
    assert "no-cache" in answer["Cache-Control"] and "no-store" in answer["Cache-Control"]
    assert not answer.cookies
    message = Message.objects.get(to=["anna@example.com"])
    assert message.opens == 1 and message.opened_at is not None
    first = message.opened_at

    assert stranger.get(address).status_code == 200  # a reload: one more, nothing else
    message.refresh_from_db()
    assert message.opens == 2 and message.opened_at == first
    assert OutboxEvent.objects.filter(name="message.opened").count() == 1
    assert Message.objects.get(to=["boris@example.com"]).opens == 0


def test_an_unknown_image_token_still_answers_the_gif_and_records_nothing(tracked_mail):
    message = Message.objects.get(to=["anna@example.com"])
    for token in ("nonsense", f"{message.pk}:forged", tracking.open_token(message.pk)[:-2] + "xx"):
        answer = Client().get(f"/t/o/{token}.gif")
        assert answer.status_code == 200 and answer.content == tracking.PIXEL
    message.refresh_from_db()
    assert message.opens == 0 and message.opened_at is None


def test_a_click_is_counted_and_sends_the_reader_to_the_original_link(tracked_mail):
    address = through_accord(tracked_mail["html"]["anna@example.com"])

    answer = Client().get(address)

    assert answer.status_code == 302 and answer["Location"] == SHOP
    assert not answer.cookies and answer["Referrer-Policy"] == "no-referrer"
    message = Message.objects.get(to=["anna@example.com"])
    assert message.clicks == 1 and message.clicked_at is not None
    # Her mail program showed no images, but a click means she opened it.
    assert message.opens == 1 and message.opened_at == message.clicked_at
    assert Client().get(address)["Location"] == SHOP
    [link] = LinkClick.objects.all()
    assert link.message == message and link.url == SHOP and link.clicks == 2
    message.refresh_from_db()
    assert message.clicks == 2
    assert OutboxEvent.objects.filter(name="message.clicked").count() == 1
    [event] = OutboxEvent.objects.filter(name="message.clicked")
    assert event.payload["url"] == SHOP and event.payload["person_id"] == message.person_id


def test_a_forged_or_changed_target_is_not_found_never_a_redirect(tracked_mail):
    message = Message.objects.get(to=["anna@example.com"])
    genuine = through_accord(tracked_mail["html"]["anna@example.com"]).removeprefix("/t/c/")
    payload, signature = genuine.rsplit(":", 1)
    from django.core import signing

    other_salt = signing.Signer(salt="elsewhere").sign_object(
        {"m": message.pk, "u": "https://evil.example/"}, compress=True
    )
    forged = [
        f"{payload}:{signature[:-2]}xx",  # a changed signature
        tracking.click_token(message.pk, "https://evil.example/")[:-4] + signature[-4:],
        other_salt,  # signed, but not by us for this
        "https%3A%2F%2Fevil.example%2F",
        "x" * 5000,
    ]
    for token in forged:
        answer = Client().get(f"/t/c/{token}")
        assert answer.status_code == 404 and "Location" not in answer
    assert Client().post(f"/t/c/{genuine}").status_code == 405
    assert Client().head(f"/t/c/{genuine}").status_code == 302  # a HEAD counts nothing
    message.refresh_from_db()
    assert message.clicks == 0 and not LinkClick.objects.exists()


def test_the_mailing_page_and_its_api_say_how_many_opened_and_clicked(
    tracked_mail, owner, manager_client, api
):
    anna_html = tracked_mail["html"]["anna@example.com"]
    Client().get(pixel_of(anna_html))
    Client().get(through_accord(anna_html))
    Client().get(pixel_of(tracked_mail["html"]["boris@example.com"]))
    mailing = tracked_mail["mailing"]

    status = api.get(f"/api/v1/mailings/{mailing.pk}").json()
    assert status["tracked"] is True
    assert status["tracking"] == {"sent": 2, "opened": 2, "clicked": 1}
    rows = {row["address"]: row for row in
            api.get(f"/api/v1/mailings/{mailing.pk}/recipients").json()["items"]}  # fmt: skip
    assert rows["anna@example.com"]["clicked_at"] and rows["boris@example.com"]["opened_at"]
    assert rows["boris@example.com"]["clicked_at"] is None

    page = manager_client.get(f"/mail/mailings/{mailing.pk}/").content.decode()
    numbers = re.sub(r"<[^>]+>", "", page.split('data-testid="mailing-tracking"')[1])
    assert "Opened by 2, clicked by 1 of 2 sent" in " ".join(numbers.split())
    assert page.count('data-testid="mail-tracking"') == 2  # each recipient's row
    assert 'data-testid="tracked-mark"' in page

    message = Message.objects.get(to=["anna@example.com"])
    detail = api.get(f"/api/v1/messages/{message.pk}").json()
    assert detail["opens"] == 1 and detail["clicks"] == 1
    assert [link["url"] for link in detail["links_clicked"]] == [SHOP]


def test_the_clients_timeline_entry_says_opened_and_clicked(tracked_mail, manager_client):
    anna_html = tracked_mail["html"]["anna@example.com"]
    Client().get(through_accord(anna_html))

    card = manager_client.get(f"/clients/people/{tracked_mail['anna'].pk}/").content.decode()
    entry = card.split('data-testid="mail-tracking"')[1].split("</summary>")[0]
    assert ">opened " in entry and ">clicked " in entry
    boris = manager_client.get(f"/clients/people/{tracked_mail['boris'].pk}/").content.decode()
    assert 'data-testid="mail-tracking"' not in boris  # not opened: nothing said


def test_a_message_written_by_hand_from_a_tracked_template_is_tracked(
    admin, owner, mailbox, sink, manager_client
):
    template = make_template(admin, tracked=True)
    vera = client(owner, "Vera")
    form = manager_client.get(f"/mail/new/?person={vera.pk}&template={template.pk}")
    assert 'data-testid="tracking-note"' in form.content.decode()

    sent = manager_client.post("/mail/new/", {
        "person": vera.pk, "mailbox": mailbox.pk, "to": "vera@example.com",
        "subject": "Our offer", "text": f"Have a look: {SHOP}", "template": template.pk,
        "key": "k1",
    })  # fmt: skip
    assert sent.status_code == 302
    delivery.deliver_due()

    [received] = sink
    html = part(received, "text/html")
    assert pixel_of(html) and Client().get(through_accord(html))["Location"] == SHOP
    assert SHOP in part(received, "text/plain")


@pytest.mark.django_db(transaction=True)
def test_an_automation_step_sending_a_tracked_template_is_tracked(admin, owner, mailbox, sink):
    template = make_template(admin, tracked=True)
    step = {"type": "send_email", "params": {"template": template.pk, "mailbox": mailbox.pk}}
    rule_save(actor=admin, data={"name": "Welcome", "subject": "person", "trigger": "created",
                                 "enabled": True, "actions": [step]})  # fmt: skip
    client(owner, "Vera")
    delivery.deliver_due()

    [received] = sink
    assert Message.objects.get().tracked
    assert pixel_of(part(received, "text/html")).startswith("/t/o/")


def test_tracking_is_off_unless_a_template_asks_and_the_api_says_it(admin):
    side = admin_api(admin)
    plain = {"name": "Plain", "subject": "S", "html": "<p>x</p>"}
    plain = side.post_json("/api/v1/email-templates", plain).json()
    assert plain["tracked"] is False
    made = side.post_json("/api/v1/email-templates", {
        "name": "News", "subject": "S", "html": "<p>x</p>", "tracked": True,
    })  # fmt: skip
    assert made.status_code == 201 and made.json()["tracked"] is True
    changed = side.patch_json(f"/api/v1/email-templates/{made.json()['id']}", {"name": "N2"},
                              HTTP_IF_MATCH=made["ETag"])  # fmt: skip
    assert changed.json()["tracked"] is True  # kept when not named


@pytest.mark.django_db(transaction=True)  # the erasure runs on the commit of person_erase
def test_erasing_the_person_erases_what_tracking_saw_and_it_sees_nothing_more(tracked_mail, admin):
    from accord.contacts.services import person_erase

    anna_html = tracked_mail["html"]["anna@example.com"]
    click = through_accord(anna_html)
    Client().get(click)
    person_erase(actor=admin, person=tracked_mail["anna"])

    message = Message.objects.get(person=tracked_mail["anna"])
    assert (message.opens, message.clicks, message.opened_at, message.clicked_at) == (
        0, 0, None, None,
    )  # fmt: skip
    assert not LinkClick.objects.exists()
    assert Client().get(click)["Location"] == SHOP  # the reader still gets where the link led
    Client().get(pixel_of(anna_html))
    message.refresh_from_db()
    assert message.opens == 0 and message.clicks == 0 and not LinkClick.objects.exists()
