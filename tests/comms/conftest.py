"""E-mail tests: a real SMTP server per test, a shared mailbox that sends through it, and
a client with two addresses."""

import pytest

from accord.accounts.models import Role
from accord.accounts.services import role_save, user_create
from accord.comms.services import mailbox_save
from accord.contacts.services import person_create
from accord.core.visibility import RECORD_TYPES
from tests.conftest import PASSWORD
from tests.sales.conftest import pipeline, stages  # noqa: F401 (fixtures)

MAILBOX_PASSWORD = "s3cret-mailbox-pass"


@pytest.fixture
def sink(smtp_factory):
    return smtp_factory()


def make_mailbox(admin, port: int, **data):
    return mailbox_save(
        actor=admin,
        data={
            "name": "Sales",
            "address": "sales@window-shop.example",
            "from_name": "Window Shop",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            **data,
        },
    )


@pytest.fixture
def mailbox(admin, sink):
    return make_mailbox(admin, sink.port)


@pytest.fixture
def vera(owner):
    return person_create(
        actor=owner,
        data={"first_name": "Vera", "last_name": "Lang",
              "emails": ["vera@example.com", "vera.lang@work.example"]},
    )  # fmt: skip


IMAP_USER = "sales@window-shop.example"
IMAP_PASSWORD = "imap-s3cret"


@pytest.fixture
def inbox(admin, sink, dovecot):
    """The shared sales mailbox, receiving from a real IMAP server (tests/conftest.py)."""
    dovecot.add_user(IMAP_USER, IMAP_PASSWORD)
    return make_mailbox(
        admin, sink.port, imap_host="127.0.0.1", imap_port=dovecot.port, imap_security="none",
        imap_username=IMAP_USER, imap_password=IMAP_PASSWORD,
    )  # fmt: skip


def mail(
    *,
    sender="Vera Lang <vera@example.com>",
    to="sales@window-shop.example",
    subject="About the windows",
    text="Hello, when can you come?",
    message_id: str | None = "auto",
    headers: dict | None = None,
    html: str | None = None,
    attachments=(),
    date=None,
) -> bytes:
    """An e-mail as a client's mail program writes it, in RFC 5322 bytes (`date`: when
    it says it was written; now unless given)."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(date.timestamp() if date else None, localtime=False)
    if message_id == "auto":
        message_id = make_msgid(domain="example.com")
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for name, content, maintype, subtype in attachments:
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def receive(
    original,
    *,
    text: str = "Thank you, that suits me.",
    subject: str | None = None,
    sender: str = "vera@example.com",
    name: str = "Vera Lang",
    to=("sales@window-shop.example",),
    cc=(),
    at=None,
    files=(),
):
    """A client's answer to `original`, as the receiving worker stores it: a row in the
    original's conversation with the threading headers, then the conversation told."""
    import uuid

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from accord.comms import bodies
    from accord.comms.models import Attachment, Message
    from accord.comms.replies import references_for
    from accord.comms.services import conversation_message_received

    message = Message.objects.create(
        direction=Message.IN,
        state=Message.RECEIVED,
        message_id=f"<{uuid.uuid4().hex}@example.com>",
        conversation=original.conversation,
        mailbox=original.mailbox,
        person=original.person,
        company=original.company,
        deal=original.deal,
        from_name=name,
        from_address=sender,
        to=list(to),
        cc=list(cc),
        subject=subject if subject is not None else f"Re: {original.subject}",
        text=text,
        html=bodies.from_text(text),
        in_reply_to=original.message_id,
        references=references_for(original),
        created_at=at or timezone.now(),
    )
    for file_name, content in files:
        kept = Attachment(message=message, name=file_name, content_type="application/pdf",
                          size=len(content))  # fmt: skip
        kept.file.save(file_name, ContentFile(content), save=False)
        kept.save()
    conversation_message_received(message=message)
    return message


@pytest.fixture
def otto(admin):
    """A manager whose role sees only their own clients."""
    access = {kind: {"read": "own", "write": "own"} for kind in RECORD_TYPES}
    role_save(actor=admin, name="Own only", access=access, capabilities=[])
    role = Role.objects.get(name="Own only")
    return user_create(email="otto@example.com", password=PASSWORD, role=role.slug,
                       full_name="Otto Own")  # fmt: skip
