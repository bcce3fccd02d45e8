"""The e-mail screens: Settings → E-mail for administrators, a user's own mailboxes from
their profile, the connection tests showing the server's answer, and the compose page
(what a phone or a browser without JavaScript uses)."""

from django.test import Client

from accord.comms import delivery
from accord.comms.models import Mailbox, Message
from accord.core.timeline import timeline_of
from tests.comms.conftest import make_mailbox
from tests.conftest import log_in


def test_an_administrator_adds_a_shared_mailbox_and_tests_it(admin_client, sink):
    assert "No mailboxes yet" in admin_client.get("/settings/email/").content.decode()
    form = {
        "name": "Sales", "address": "sales@window-shop.example", "from_name": "Window Shop",
        "active": "on", "smtp_host": "127.0.0.1", "smtp_port": sink.port,
        "smtp_security": "none", "smtp_username": "", "smtp_password": "",
        "imap_host": "", "imap_port": 993, "imap_security": "tls", "imap_folder": "INBOX",
    }  # fmt: skip
    saved = admin_client.post("/settings/email/new/", form)
    mailbox = Mailbox.objects.get()
    assert saved.status_code == 302 and saved["Location"] == f"/settings/email/{mailbox.pk}/"
    assert mailbox.owner is None and mailbox.created_by is not None

    tested = admin_client.post(
        f"/settings/email/{mailbox.pk}/test/sending/", HTTP_HX_REQUEST="true"
    )
    assert "Sending works." in tested.content.decode() and len(sink) == 1
    assert sink[0]["To"] == "sales@window-shop.example"

    receiving = admin_client.post(
        f"/settings/email/{mailbox.pk}/test/receiving/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Receiving does not work." in receiving and "Fill in the IMAP server first." in receiving


def test_the_test_buttons_show_the_servers_own_answer(admin, admin_client, smtp_factory):
    guarded = smtp_factory(users={"sales": "right"})
    mailbox = make_mailbox(admin, guarded.port, smtp_username="sales", smtp_password="wrong",
                           imap_host="127.0.0.1", imap_port=guarded.port,
                           imap_security="tls")  # fmt: skip
    page = admin_client.post(f"/settings/email/{mailbox.pk}/test/sending/",
                             HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert "Sending does not work." in page and "The server refused the login: 535" in page
    imap = admin_client.post(f"/settings/email/{mailbox.pk}/test/receiving/",
                             HTTP_HX_REQUEST="true").content.decode()  # fmt: skip
    assert "Receiving does not work." in imap and "The secure connection to 127.0.0.1:" in imap
    closed = make_mailbox(admin, 9, address="closed@window-shop.example")
    page = admin_client.post(f"/settings/email/{closed.pk}/test/sending/", follow=True)
    assert "127.0.0.1:9 refused the connection" in page.content.decode()


def test_the_mailbox_page_says_what_failed_last(admin, admin_client, owner, vera, smtp_factory):
    from accord.comms.services import message_send

    strict = smtp_factory(data_answer="550 5.7.1 Relaying denied")
    mailbox = make_mailbox(admin, strict.port)
    message_send(actor=owner, mailbox=mailbox, person=vera, to="vera@example.com",
                 subject="Hi", text="Hello")  # fmt: skip
    delivery.deliver_due()
    page = admin_client.get(f"/settings/email/{mailbox.pk}/").content.decode()
    assert "The server did not accept the message: 550 5.7.1 Relaying denied" in page
    listing = admin_client.get("/settings/email/").content.decode()
    assert "failing" in listing and "1 failed" in listing


def test_a_manager_keeps_their_own_mailboxes_from_the_profile(admin, manager_client, owner, sink):
    assert "My mailboxes" in manager_client.get("/profile/").content.decode()
    assert manager_client.get("/settings/email/").status_code == 404
    shared = make_mailbox(admin, sink.port)
    assert manager_client.get(f"/profile/mailboxes/{shared.pk}/").status_code == 404
    form = {"name": "Olivia", "address": "olivia@window-shop.example", "active": "on",
            "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_security": "none",
            "imap_port": 993, "imap_security": "tls", "imap_folder": "INBOX",
            "owner": admin.pk, "is_default": "on"}  # fmt: skip
    saved = manager_client.post("/profile/mailboxes/new/", form)
    own = Mailbox.objects.get(address="olivia@window-shop.example")
    assert saved["Location"] == f"/profile/mailboxes/{own.pk}/"
    assert own.owner == owner and not own.is_default  # the form has neither for them
    assert "Olivia" in manager_client.get("/profile/mailboxes/").content.decode()


def test_writing_from_the_card_without_javascript(manager_client, mailbox, vera, sink):
    card = manager_client.get(f"/clients/people/{vera.pk}/").content.decode()
    assert f"/mail/new/?person={vera.pk}" in card
    page = manager_client.get(f"/mail/new/?person={vera.pk}").content.decode()
    assert 'value="vera@example.com"' in page and "vera.lang@work.example" in page
    key = page.split('name="key" value="')[1].split('"')[0]
    form = {"person": vera.pk, "mailbox": mailbox.pk, "to": "vera@example.com",
            "subject": "Your windows", "text": "Hello Vera", "key": key}  # fmt: skip
    wrong = manager_client.post("/mail/new/", {**form, "to": "vera@example.com, nobody"})
    assert wrong.status_code == 422 and "Not an e-mail address: nobody" in wrong.content.decode()
    assert "Your windows" in wrong.content.decode()  # what was typed stays
    sent = manager_client.post("/mail/new/", form, follow=True)
    assert "“Your windows” is queued" in sent.content.decode()
    manager_client.post("/mail/new/", form)  # the same form again: no second message
    assert Message.objects.count() == 1
    assert timeline_of(vera, kinds=["email"]).count() == 1
    card = manager_client.get(f"/clients/people/{vera.pk}/").content.decode()
    assert "Your windows" in card and "Queued" in card
    delivery.deliver_due()
    message = Message.objects.get()
    opened = manager_client.get(f"/mail/messages/{message.pk}/", HTTP_HX_REQUEST="true")
    assert "<p>Hello Vera</p>" in opened.content.decode() and "Sent" in opened.content.decode()


def test_with_no_mailbox_the_compose_panel_says_where_to_add_one(manager_client, vera):
    page = manager_client.get(f"/mail/new/?person={vera.pk}").content.decode()
    assert "No mailbox to send from yet" in page and "/profile/mailboxes/new/" in page


def test_the_deal_page_writes_to_the_deals_client(owner, manager_client, mailbox, vera, stages):
    from accord.sales.services import deal_create

    deal = deal_create(actor=owner, data={"title": "Balcony", "person": vera})
    assert f"/mail/new/?deal={deal.pk}" in manager_client.get(f"/deals/{deal.pk}/").content.decode()
    panel = manager_client.get(f"/mail/new/?deal={deal.pk}", HTTP_HX_REQUEST="true")
    assert 'value="vera@example.com"' in panel.content.decode()
    answer = manager_client.post(
        "/mail/new/",
        {"deal": deal.pk, "mailbox": mailbox.pk, "to": "vera@example.com", "subject": "Balcony",
         "text": "Hello", "key": "k1"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert answer.status_code == 204 and "accord:mail-queued" in answer["HX-Trigger"]
    assert timeline_of(deal, kinds=["email"]).count() == 1


def test_someone_who_may_not_write_sees_no_button(admin, vera, owner, mailbox):
    from accord.accounts.models import User

    reader = User.objects.create_user(email="rita@example.com", password="x" * 12)
    reader.role = owner.role.__class__.objects.get(slug="read-only")
    reader.save()
    client = Client()
    client.force_login(reader)
    card = client.get(f"/clients/people/{vera.pk}/").content.decode()
    assert "Write an e-mail" not in card
    assert client.get(f"/mail/new/?person={vera.pk}").status_code == 404
    assert log_in  # the standing users log in through the page elsewhere


def test_empty_lists_of_templates_mailings_and_mailboxes_say_what_they_are_in_their_language(
    admin, admin_client
):
    from django.utils import translation

    from accord.accounts.services import user_update

    pages = [("/settings/email/templates/", "No templates yet", "Write the first template",
              "/settings/email/templates/new/"),
             ("/mail/mailings/", "No mailings yet", "Prepare the first mailing",
              "/mail/mailings/new/"),
             ("/settings/email/", "No mailboxes yet", "Add the first mailbox",
              "/settings/email/new/")]  # fmt: skip
    for language in ("en", "ru"):
        user_update(user=admin, actor=admin, language=language)
        for url, title, action, new_url in pages:
            with translation.override(language):  # a request ends with no language active
                title, action = translation.gettext(title), translation.gettext(action)
            page = admin_client.get(url).content.decode()
            assert f"<h2>{title}</h2>" in page
            assert f'href="{new_url}">{action}</a>' in page
