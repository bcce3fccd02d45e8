"""The step that writes to the client by SMS or a messenger: "Send an SMS or a messenger
message" — on a connection, a text with merge fields (a variant per language), or on
WhatsApp an approved template. It goes on in the client's conversation on that connection
or begins one at their first valid number (a Telegram bot only in a chat the client
wrote from); a number that replied STOP gets nothing."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation import records, templates
from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.comms.models import Conversation, Messenger, Unsubscribe
from accord.comms.services.chat_sending import chat_addresses, chat_send, chat_start
from accord.comms.services.templates import language_for
from accord.contacts.models import Company, Person
from accord.core.errors import message_of
from accord.sales.models import Deal


def _messenger(params: dict) -> Messenger | None:
    pk = records.whole_number(params.get("messenger"))
    return Messenger.objects.filter(pk=pk, active=True).first() if pk else None


def _check(params: dict, subject: str) -> list[str]:
    messenger = _messenger(params)
    if messenger is None:
        return [_("Choose a messenger or SMS connection in use.")]
    template = str(params.get("wa_template") or "")
    if template:
        if messenger.provider != Messenger.WHATSAPP or template not in {
            t["name"] for t in messenger.templates
        }:
            return [_("Choose one of the connection's templates.")]
        return []
    problems = templates.problems_in(params, "message")
    if not str(params.get("message") or "").strip():
        problems.append(_("Write the message."))
    return problems


def _run(step: Step, params: dict) -> str:
    messenger = _messenger(params)
    if messenger is None:
        raise ActionError(_("The connection is gone or switched off."), final=True)
    client = step.view.get("client") or {}
    model = Person if client.get("type") == "person" else Company
    record = model.objects.filter(pk=client.get("id")).first() if client.get("id") else None
    if record is None:
        raise ActionError(_("The rule's record has no client."), final=True)
    person = record if model is Person else None
    text = templates.render_for(params, "message", step.view, language_for(person))[:4096]
    template = str(params.get("wa_template") or "")
    conversation = (
        Conversation.objects.filter(messenger=messenger, **{model._meta.model_name: record})
        .order_by("-last_message_at", "-pk")
        .first()
    )
    address = (
        conversation.address if conversation else next(iter(chat_addresses(messenger, record)), "")
    )
    if not address:
        raise ActionError(_("The client has no number or chat to write to there."), final=True)
    if Unsubscribe.objects.filter(address=address).exists():
        raise ActionError(_("The client replied STOP to this number."), final=True)
    what = template or text
    if step.dry_run:
        return _("Would write “%(text)s” to %(address)s") % {"text": what, "address": address}
    key = f"automation:{step.made.get('run')}:{step.made.get('path')}"
    try:
        if conversation is not None:
            chat_send(actor=step.actor, conversation=conversation, text=text, template=template,
                      idempotency_key=key, rule_name=step.rule_name)  # fmt: skip
        else:
            deal = (
                Deal.objects.filter(pk=step.record_id).first() if step.subject == "deal" else None
            )
            chat_start(actor=step.actor, messenger=messenger, address=address, text=text,
                       template=template, idempotency_key=key, rule_name=step.rule_name,
                       person=person, company=record if person is None else None,
                       deal=deal)  # fmt: skip
    except (ValidationError, PermissionDenied) as error:
        raise ActionError(message_of(error) if isinstance(error, ValidationError)
                          else str(error), final=True) from None  # fmt: skip
    return _("“%(text)s” to %(address)s queued") % {"text": what[:200], "address": address}


register(
    Action(
        "send_message",
        gettext_lazy("Send an SMS or a messenger message"),
        ("person", "company", "deal", "task"),
        _check,
        _run,
        changes_record=False,
        traced=("person", "company", "deal"),
    )
)
