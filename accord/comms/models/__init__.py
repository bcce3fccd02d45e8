"""The channels' tables: e-mail (`mail.py`: mailboxes, conversations, messages, mailings)
telephony (`calls.py`: connections to a PBX, extensions, calls and their events) and
messengers and SMS (`chats.py`: connections, deliveries stored once, who is who)."""

from accord.comms.models.calls import Call, CallEvent, Extension, Telephony
from accord.comms.models.chats import ChatContact, ChatEvent, Messenger
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
from accord.comms.models.stats import ChannelDay

__all__ = [
    "NONE",
    "SECURITY",
    "STARTTLS",
    "TLS",
    "Attachment",
    "BouncingAddress",
    "Call",
    "CallEvent",
    "ChannelDay",
    "ChatContact",
    "ChatEvent",
    "Conversation",
    "ConversationRead",
    "EmailTemplate",
    "Extension",
    "LinkClick",
    "Mailbox",
    "Mailing",
    "Message",
    "MessageCopy",
    "Messenger",
    "Recipient",
    "Telephony",
    "Unsubscribe",
]  # fmt: skip
