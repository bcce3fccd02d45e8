"""Every write of the comms app: mailboxes, messages to clients and their sending, and the
conversations they make (replies, who answers, what each user has read)."""

from accord.comms.services.mailboxes import (
    mailbox_delete,
    mailbox_save,
    mailboxes_reseal,
    may_manage,
)
from accord.comms.services.mailings import (
    audience,
    mailing_cancel,
    mailing_counts,
    mailing_pause,
    mailing_resume,
    mailing_save,
    mailing_start,
    may_send_mailings,
    unsubscribe_by_token,
)
from accord.comms.services.messages import (
    may_retry,
    may_write_to,
    message_attempt_failed,
    message_reply,
    message_retry,
    message_send,
    message_sent,
    messages_abandon_stale,
    messages_erase_person,
    messages_sent,
    on_person_erased,
)
from accord.comms.services.receiving import (
    mailbox_fetch_now,
    message_attach_client,
    message_receive,
)
from accord.comms.services.templates import (
    template_delete,
    template_render,
    template_save,
)
from accord.comms.services.threads import (
    conversation_assign,
    conversation_mark_read,
    conversation_message_received,
    conversations_messages_received,
    may_answer,
)

__all__ = [
    "audience",
    "conversation_assign",
    "conversation_mark_read",
    "conversation_message_received",
    "conversations_messages_received",
    "mailbox_delete",
    "mailbox_fetch_now",
    "mailbox_save",
    "mailboxes_reseal",
    "mailing_cancel",
    "mailing_counts",
    "mailing_pause",
    "mailing_resume",
    "mailing_save",
    "mailing_start",
    "may_answer",
    "may_manage",
    "may_retry",
    "may_send_mailings",
    "may_write_to",
    "message_attach_client",
    "message_attempt_failed",
    "message_receive",
    "message_reply",
    "message_retry",
    "message_send",
    "message_sent",
    "messages_abandon_stale",
    "messages_erase_person",
    "messages_sent",
    "on_person_erased",
    "template_delete",
    "template_render",
    "template_save",
    "unsubscribe_by_token",
]
