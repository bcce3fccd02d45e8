"""The Inbox and a client's e-mail card, through the screens: who sees which mail (a
manager whose role says "own" never sees another's client's), the boxes and their counts,
the unread badge, opening a thread (read), assigning it, and the reply form's start."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from accord.accounts.models import Role, User
from accord.accounts.services import role_save, user_create
from accord.comms.models import Conversation
from accord.comms.services import message_send
from accord.contacts.services import person_create
from accord.core.visibility import RECORD_TYPES
from tests.comms.conftest import receive
from tests.conftest import PASSWORD, log_in


@pytest.fixture
def ottos_client(otto):
    return person_create(actor=otto, data={"first_name": "Karl", "emails": ["karl@example.com"]})


def write(actor, mailbox, person, address, subject="Your offer"):
    return message_send(actor=actor, mailbox=mailbox, person=person, to=[address],
                        subject=subject, text="Hello")  # fmt: skip


def browser(user) -> Client:
    client = Client()
    assert log_in(client, user.email)
    return client


@pytest.fixture
def two_threads(owner, otto, mailbox, vera, ottos_client):
    veras = receive(write(owner, mailbox, vera, "vera@example.com"), text="Vera asks")
    karls = receive(write(otto, mailbox, ottos_client, "karl@example.com", "Karl's windows"),
                    sender="karl@example.com", name="Karl", text="Karl asks")  # fmt: skip
    return veras.conversation, karls.conversation


def test_a_manager_whose_role_says_own_sees_only_their_clients_mail(owner, otto, two_threads):
    veras, _karls = two_threads
    page = browser(otto).get("/inbox/?box=all").content.decode()
    assert "Karl&#x27;s windows" in page and "Your offer" not in page
    otto_sees = browser(otto)
    for url in (f"/mail/threads/{veras.pk}/", f"/mail/threads/?person={veras.person_id}",
                f"/mail/new/?reply={veras.messages.first().pk}&kind=reply"):  # fmt: skip
        assert otto_sees.get(url).status_code == 404, url
    assert (
        otto_sees.post(f"/mail/threads/{veras.pk}/assign/", {"assignee": otto.pk}).status_code
        == 404
    )
    # Olivia (a manager who sees all clients) sees both, hers assigned to her.
    page = browser(owner).get("/inbox/?box=all").content.decode()
    assert "Karl&#x27;s windows" in page and "Your offer" in page


def test_the_boxes_count_and_the_badge_shows_my_unread(owner, otto, two_threads):
    veras, _karls = two_threads
    olivia = browser(owner)
    page = olivia.get("/inbox/").content.decode()
    assert "Your offer" in page and "Karl&#x27;s windows" not in page  # mine: hers only
    assert '>Mine <span class="chip-count">1</span>' in page
    assert '>All I may see <span class="chip-count">2</span>' in page
    badge = olivia.get("/inbox/badge/").content.decode()
    assert badge.endswith("</span>1")

    opened = olivia.get(f"/mail/threads/{veras.pk}/", headers={"HX-Request": "true"})
    assert "Vera asks" in opened.content.decode()
    assert opened["HX-Trigger"] == "accord:inbox-read"
    assert olivia.get("/inbox/badge/").content.decode() == ""  # read: no count


def test_a_thread_is_assigned_to_the_clients_owner_and_reassigned(
    admin, owner, otto, mailbox, vera
):
    conversation = receive(write(owner, mailbox, vera, "vera@example.com")).conversation
    assert conversation.assignee == owner
    olivia = browser(owner)
    answer = olivia.post(f"/mail/threads/{conversation.pk}/assign/", {"assignee": ""},
                         headers={"HX-Request": "true"})  # fmt: skip
    assert answer.status_code == 200
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert "Your offer" in olivia.get("/inbox/?box=unassigned").content.decode()
    # Otto may not see Vera: he cannot be given her mail.
    refused = olivia.post(f"/mail/threads/{conversation.pk}/assign/", {"assignee": otto.pk},
                          headers={"HX-Request": "true"})  # fmt: skip
    assert (
        refused.status_code == 422
        and "Otto Own may not see this client." in refused.content.decode()
    )
    olivia.post(f"/mail/threads/{conversation.pk}/assign/", {"assignee": admin.pk})
    assert Conversation.objects.get().assignee == admin


def test_the_client_card_lists_threads_newest_first_and_opens_one_in_place(owner, mailbox, vera):
    first = write(owner, mailbox, vera, "vera@example.com", "First")
    write(owner, mailbox, vera, "vera@example.com", "Second")
    receive(first, text="An answer to the first")
    olivia = browser(owner)
    card = olivia.get(f"/mail/threads/?person={vera.pk}").content.decode()
    assert card.index("First") < card.index("Second")  # the answered one moved up
    opened = olivia.get(f"/mail/threads/{first.conversation_id}/", headers={"HX-Request": "true"})
    page = opened.content.decode()
    assert page.index("Hello") < page.index("An answer to the first")  # oldest first
    assert "Received" in page and "Reply to all" in page and "Forward" in page


def test_the_reply_form_starts_with_the_recipient_subject_and_quote(owner, mailbox, vera):
    answer = receive(write(owner, mailbox, vera, "vera@example.com"), text="When?")
    form = browser(owner).get(f"/mail/new/?reply={answer.pk}&kind=reply").content.decode()
    assert 'value="vera@example.com"' in form and 'value="Re: Your offer"' in form
    assert "&gt; When?" in form
    assert f'name="reply" value="{answer.pk}"' in form


def test_replying_through_the_form_joins_the_thread(owner, mailbox, vera):
    answer = receive(write(owner, mailbox, vera, "vera@example.com"), text="When?")
    olivia = browser(owner)
    sent = olivia.post("/mail/new/", {
        "reply": answer.pk, "kind": "reply", "mailbox": mailbox.pk, "to": "vera@example.com",
        "subject": "Re: Your offer", "text": "Tomorrow.", "key": "k1",
    })  # fmt: skip
    assert (
        sent.status_code == 302 and sent["Location"] == f"/mail/threads/{answer.conversation_id}/"
    )
    conversation = Conversation.objects.get()
    assert conversation.message_count == 3 and not conversation.awaiting_reply
    bad = olivia.post("/mail/new/", {"reply": answer.pk, "kind": "reply", "mailbox": mailbox.pk,
                                     "to": "not an address", "subject": "Re", "text": "x",
                                     "key": "k2"})  # fmt: skip
    assert (
        bad.status_code == 422 and "Not an e-mail address: not an address" in bad.content.decode()
    )
    assert Conversation.objects.get().message_count == 3


def test_an_empty_inbox_says_what_it_is_and_where_mail_comes_from(admin_client, owner):
    page = admin_client.get("/inbox/").content.decode()
    assert "Your clients’ e-mail and messages come here" in page
    assert 'href="/settings/email/"' in page and 'href="/settings/messengers/"' in page
    page = browser(owner).get("/inbox/").content.decode()
    assert 'href="/settings/email/"' not in page and 'href="/profile/mailboxes/"' in page
    assert 'href="/settings/messengers/"' not in page


def test_a_long_thread_shows_its_latest_messages_and_the_earlier_on_demand(owner, mailbox, vera):
    last = write(owner, mailbox, vera, "vera@example.com", "Long talk")
    for n in range(34):
        last = receive(last, text=f"Note number {n:02}")
    olivia = browser(owner)
    page = olivia.get(f"/mail/threads/{last.conversation_id}/", headers={"HX-Request": "true"})
    shown = page.content.decode()
    assert "Note number 33" in shown and "Note number 04" in shown
    assert "Note number 03" not in shown and "Earlier messages" in shown
    earlier_url = re.search(r'hx-get="([^"]*cursor=[^"]*)"', shown).group(1).replace("&amp;", "&")
    earlier = olivia.get(earlier_url, headers={"HX-Request": "true"}).content.decode()
    assert "Note number 03" in earlier and "Hello" in earlier and "Note number 04" not in earlier
    assert "Earlier messages" not in earlier


def test_marking_a_read_thread_unread_brings_it_back_as_news(owner, mailbox, vera):
    conversation = receive(write(owner, mailbox, vera, "vera@example.com")).conversation
    olivia = browser(owner)
    olivia.get(f"/mail/threads/{conversation.pk}/")
    assert olivia.get("/inbox/badge/").content.decode() == ""
    answer = olivia.post(f"/mail/threads/{conversation.pk}/unread/")
    assert answer.status_code == 302 and answer["Location"] == "/inbox/"
    assert olivia.get("/inbox/badge/").content.decode().endswith("</span>1")


def test_a_message_opened_on_the_timeline_offers_reply_and_its_conversation(owner, mailbox, vera):
    sent = write(owner, mailbox, vera, "vera@example.com")
    opened = browser(owner).get(f"/mail/messages/{sent.pk}/", headers={"HX-Request": "true"})
    page = opened.content.decode()
    assert f"/mail/new/?reply={sent.pk}&amp;kind=reply_all" in page
    assert f'href="/mail/threads/{sent.conversation_id}/"' in page


def test_the_inbox_leads_to_the_mailings_for_whoever_writes_to_clients(owner, admin):
    readonly = {kind: {"read": "all", "write": "none"} for kind in RECORD_TYPES}
    role_save(actor=admin, name="Looks only", access=readonly, capabilities=[])
    looker = user_create(email="looker@example.com", password=PASSWORD,
                         role=Role.objects.get(name="Looks only").slug)  # fmt: skip

    assert 'href="/mail/mailings/"' in browser(owner).get("/inbox/").content.decode()
    assert 'href="/mail/mailings/"' not in browser(looker).get("/inbox/").content.decode()


def test_giving_a_thread_to_a_colleague_tells_them_and_taking_it_oneself_does_not(
    admin, owner, mailbox, vera
):
    conversation = receive(write(owner, mailbox, vera, "vera@example.com")).conversation
    olivia, ada = browser(owner), browser(admin)
    olivia.post(f"/mail/threads/{conversation.pk}/assign/", {"assignee": admin.pk},
                headers={"HX-Request": "true"})  # fmt: skip

    page = ada.get("/notifications/").content.decode()
    link = f'<a href="/mail/threads/{conversation.pk}/">Olivia Owner gave you the conversation'
    assert link in page and "“Your offer”" in page
    assert ada.get(f"/mail/threads/{conversation.pk}/").status_code == 200  # the link opens it
    # Olivia takes it back herself, gives it to nobody, then to Ada again: Ada hears
    # of the second time too; Olivia is never told what she did herself.
    for assignee in (owner.pk, "", admin.pk):
        olivia.post(f"/mail/threads/{conversation.pk}/assign/", {"assignee": assignee})
    assert ada.get("/notifications/").content.decode().count("gave you the conversation") == 2
    assert "gave you" not in olivia.get("/notifications/").content.decode()


def many_threads(person, assignee, count: int) -> None:
    """Conversations the client wrote in, written in bulk as the receiving service keeps
    them (thousands, for the counts' cap)."""
    now = timezone.now()
    Conversation.objects.bulk_create(
        [Conversation(subject=f"Question {n}", person=person, assignee=assignee,
                      started_at=now, last_message_at=now, last_incoming_at=now,
                      awaiting_reply=True, message_count=1) for n in range(count)],
        batch_size=2_000,
    )  # fmt: skip


def test_past_a_thousand_a_box_says_1000_plus_in_the_readers_language(owner, vera):
    many_threads(vera, owner, 1_001)
    page = browser(owner).get("/inbox/").content.decode()
    assert '>Mine <span class="chip-count">1,000+</span>' in page
    assert '>All I may see <span class="chip-count">1,000+</span>' in page
    assert '>Unassigned <span class="chip-count">0</span>' in page

    User.objects.filter(pk=owner.pk).update(language="ru")
    assert (
        '<span class="chip-count">1\xa0000+</span>'
        in browser(owner).get("/inbox/").content.decode()
    )
    Conversation.objects.filter(pk=Conversation.objects.order_by("pk").first().pk).delete()
    exact = browser(owner).get("/inbox/").content.decode()
    assert '<span class="chip-count">1\xa0000</span>' in exact and "1\xa0000+" not in exact


def test_a_thread_opened_from_its_row_marks_the_row_read(owner, mailbox, vera):
    conversation = receive(write(owner, mailbox, vera, "vera@example.com")).conversation
    olivia = browser(owner)
    row = olivia.get("/inbox/").content.decode()
    assert f'id="thread-line-{conversation.pk}"' in row and "1 new" in row

    opened = olivia.get(f"/mail/threads/{conversation.pk}/?row=1", headers={"HX-Request": "true"})
    page = opened.content.decode()
    assert f'id="thread-line-{conversation.pk}" hx-swap-oob="true"' in page
    assert "1 new" not in page and "unread-dot" not in page
    assert "Waiting for an answer" in page  # still to answer, now read
    alone = olivia.get(f"/mail/threads/{conversation.pk}/", headers={"HX-Request": "true"})
    assert "hx-swap-oob" not in alone.content.decode()  # the thread's own page has no row
