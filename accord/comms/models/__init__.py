"""The channels' tables: e-mail (`mail.py`: mailboxes, conversations, messages, mailings)
and telephony (`calls.py`: connections to a PBX, extensions, calls and their events)."""

from accord.comms.models.calls import Call, CallEvent, Extension, Telephony
from accord.comms.models.mail import (
    NONE,
    SECURITY,
    STARTTLS,
    TLS,
    Attachment,
    BouncingAddress,
    Conversation,
    ConversationRead,
    EmailTemplate,
    LinkClick,
    Mailbox,
    Mailing,
    Message,
    MessageCopy,
    Recipient,
    Unsubscribe,
)

__all__ = [
    "NONE", "SECURITY", "STARTTLS", "TLS", "Attachment", "BouncingAddress", "Call",
    "CallEvent", "Conversation", "ConversationRead", "EmailTemplate", "Extension",
    "LinkClick", "Mailbox", "Mailing", "Message", "MessageCopy", "Recipient", "Telephony",
    "Unsubscribe",
]  # fmt: skip
