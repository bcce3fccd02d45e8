"""Bad mail never stops a mailbox's fetch: each is stored as safely as it can be, the next
message comes in, and what was wrong is on the mailbox's page."""

import pytest

from accord.comms import fetching
from accord.comms.models import Message
from tests.comms.conftest import IMAP_USER, mail

pytestmark = pytest.mark.django_db


def fetch_with_a_good_one_after(inbox, dovecot, bad: bytes) -> Message:
    dovecot.append(IMAP_USER, bad, mail(subject="The next one"))
    inbox.refresh_from_db()
    assert fetching.fetch(inbox) == 2
    first, second = Message.objects.filter(direction=Message.IN).order_by("pk")
    assert second.subject == "The next one"
    inbox.refresh_from_db()
    assert inbox.sync_error == ""
    return first


def problems_on_the_page(client, admin, inbox) -> str:
    client.force_login(admin)
    return client.get(f"/settings/email/{inbox.pk}/").content.decode()


BROKEN = b"""\
From: Vera Lang <vera@example.com>
To: sales@window-shop.example
Subject: Broken
Message-ID: <broken-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="never-closed"

--never-closed
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8g!!!not base64 at all===
--never-clo
Content-Type: application/pdf
"""


def test_broken_mime_is_kept_as_well_as_it_reads(inbox, dovecot, vera, client, admin):
    message = fetch_with_a_good_one_after(inbox, dovecot, BROKEN.replace(b"\n", b"\r\n"))
    assert message.subject == "Broken"
    assert message.person == vera
    assert "broken" in message.problems
    assert "Broken" in problems_on_the_page(client, admin, inbox)


UNKNOWN_CHARSET = """\
From: Vera Lang <vera@example.com>
To: sales@window-shop.example
Subject: =?x-martian-7?q?Strange?=
Message-ID: <charset-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="x-martian-7"
Content-Transfer-Encoding: 8bit

Gr\u00fc\u00dfe aus dem B\u00fcro
"""


def test_an_unknown_charset_is_read_as_utf8_and_said(inbox, dovecot, vera, client, admin):
    raw = UNKNOWN_CHARSET.replace("\n", "\r\n").encode("utf-8")
    message = fetch_with_a_good_one_after(inbox, dovecot, raw)
    assert "Grüße aus dem Büro" in message.text
    assert "x-martian-7" in message.problems
    assert "x-martian-7" in problems_on_the_page(client, admin, inbox)


def test_a_30_mb_attachment_is_refused_with_the_reason_and_the_message_kept(
    inbox, dovecot, vera, client, admin
):
    pdf = b"%PDF-1.7\n" + b"0" * (30 * 1024 * 1024)
    small = b"%PDF-1.7\n" + b"1" * 1000
    files = [("plans.pdf", pdf, "application", "pdf"), ("note.pdf", small, "application", "pdf")]
    raw = mail(subject="The plans", attachments=files)
    message = fetch_with_a_good_one_after(inbox, dovecot, raw)
    assert message.subject == "The plans"
    assert [a.name for a in message.attachments.all()] == ["note.pdf"]
    assert "“plans.pdf” was not kept" in message.problems
    assert "30.0\xa0MB" in message.problems
    assert "plans.pdf" in problems_on_the_page(client, admin, inbox)


def test_a_message_over_the_size_limit_is_kept_by_its_headers(inbox, dovecot, vera, settings):
    settings.ACCORD_EMAIL_RAW_MAX_MB = 1
    raw = mail(subject="Huge", attachments=[("a.pdf", b"%PDF-" + b"0" * 2_000_000,
                                             "application", "pdf")])  # fmt: skip
    message = fetch_with_a_good_one_after(inbox, dovecot, raw)
    assert message.subject == "Huge" and message.person == vera
    assert message.size > 2_000_000
    assert "only its headers were read" in message.problems
    assert not message.attachments.exists()


INJECTION = """\
From: =?utf-8?q?Vera=0D=0ABcc=3A_evil=40attacker=2Eexample?= <vera@example.com>
To: sales@window-shop.example, =?utf-8?q?x=0D=0ABcc:_y?= <someone@example.org>
Subject: =?utf-8?q?Hello=0D=0ABcc=3A_evil=40attacker=2Eexample?=
Message-ID: <inject-1@example.com>
Content-Type: text/plain; charset=utf-8

Hi
"""


def test_a_header_injection_is_stored_on_one_line(inbox, dovecot, vera):
    raw = INJECTION.replace("\n", "\r\n").encode()
    message = fetch_with_a_good_one_after(inbox, dovecot, raw)
    assert message.subject == "Hello Bcc: evil@attacker.example"
    assert "\n" not in message.from_name and "\r" not in message.from_name
    assert message.from_address == "vera@example.com"
    assert all("\r" not in a and "\n" not in a for a in message.to)
    assert "evil@attacker.example" not in message.to + message.cc
    assert message.person == vera


def test_html_with_scripts_is_stored_sanitised(inbox, dovecot, vera, client, owner):
    html = ('<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
            '<img src="https://tracker.example/p.gif" onerror="alert(2)">'
            '<a href="javascript:alert(3)">click</a><style>body{display:none}</style>')  # fmt: skip
    message = fetch_with_a_good_one_after(inbox, dovecot, mail(subject="Styled", html=html))
    for bad in ("<script", "onclick", "onerror", "javascript:", "<img", "<style", "alert("):
        assert bad not in message.html
    assert "<b>there</b>" in message.html
    client.force_login(owner)
    page = client.get(f"/mail/messages/{message.pk}/").content.decode()
    assert "<b>there</b>" in page and "<script>alert" not in page


def test_nul_characters_and_a_missing_message_id_are_handled(inbox, dovecot, vera):
    raw = mail(subject="No id", message_id=None, text="a\x00b")
    message = fetch_with_a_good_one_after(inbox, dovecot, raw)
    assert message.message_id.endswith("@no-message-id.accord>")
    assert "\x00" not in message.text
    # The same message again (another mailbox, another fetch) has the same id.
    from accord.comms.reading import read

    assert read(raw).message_id == message.message_id
