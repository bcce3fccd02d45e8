"""The steps that tell someone: a notification in Accord, an e-mail to the client, a
call of another system's web address (a webhook)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation import records, templates
from accord.automation.actions.people import person_problems, who_is
from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.comms import merge
from accord.comms.models import EmailTemplate, Mailbox
from accord.comms.queries import default_mailbox
from accord.comms.services import message_send, template_render
from accord.comms.services.templates import language_for
from accord.contacts.models import Company, Person
from accord.core import http
from accord.core.errors import message_of
from accord.core.http import check_url
from accord.sales.models import Deal
from accord.work.models import Notification
from accord.work.services import notify


def _check_notify(params: dict, subject: str) -> list[str]:
    problems = templates.problems_in(params, "message")
    if not (params.get("message") or "").strip():
        problems.append(_("Write the message."))
    return problems + person_problems(params.get("to", {}))


def _run_notify(step: Step, params: dict) -> str:
    user = who_is(step, params.get("to", {}))
    message = templates.render_for(params, "message", step.view, templates.language_of(user))
    message = message[:1000]
    if step.dry_run:
        return _("Would tell %(user)s: %(message)s") % {"user": user, "message": message}
    key = f"automation:{step.made.get('run')}:{step.made.get('path')}:{user.pk}"
    client = step.view.get("client") or {}
    notify(
        user,
        Notification.AUTOMATION,
        key[:100],
        person_id=client["id"]
        if client.get("type") == "person" and not client.get("deleted")
        else None,
        message=message,
        rule=step.rule_name,
    )
    return _("%(user)s told: %(message)s") % {"user": user, "message": message}


register(
    Action(
        "notify",
        gettext_lazy("Notify someone"),
        ("person", "company", "deal", "task"),
        _check_notify,
        _run_notify,
        changes_record=False,
    )
)


def _check_email(params: dict, subject: str) -> list[str]:
    if params.get("template") not in (None, ""):
        problems = [] if _template(params) else [_("The e-mail template is gone: choose another.")]
    else:
        problems = templates.problems_in(params, "subject", "body")
        if not (params.get("subject") or "").strip() or not (params.get("body") or "").strip():
            problems.append(_("Write the e-mail's subject and text."))
    if params.get("mailbox") not in (None, "") and _mailbox(params) is None:
        problems.append(_("The mailbox to send from is gone or not in use: choose another."))
    return problems


def _mailbox(params: dict) -> Mailbox | None:
    """The mailbox the step names (in use), or with none named the company's default."""
    chosen = params.get("mailbox")
    if chosen in (None, ""):
        return default_mailbox()
    pk = records.whole_number(chosen)
    return Mailbox.objects.filter(pk=pk, active=True).first() if pk else None


def _template(params: dict) -> EmailTemplate | None:
    pk = records.whole_number(params.get("template"))
    return EmailTemplate.objects.filter(pk=pk).first() if pk else None


def _run_email(step: Step, params: dict) -> str:
    """Queue an e-mail to the client through the comms services: it is on the client's
    (and the deal's) timeline and sent, retried, by the worker like any other message."""
    client = step.view.get("client") or {}
    address = client.get("email", "")
    kind = client.get("type")
    if not address:
        raise ActionError(_("The client has no e-mail address."), final=True)
    template = _template(params)
    if params.get("template") not in (None, "") and template is None:
        raise ActionError(_("The e-mail template is gone: choose another."), final=True)
    marketing = template.marketing if template else bool(params.get("marketing", True))
    person = Person.objects.filter(pk=client.get("id")).first() if kind == "person" else None
    if marketing and person is not None and not person.marketing_consent:
        raise ActionError(_("The client has not agreed to marketing e-mail."), final=True)
    mailbox = _mailbox(params)
    if mailbox is None and (params.get("mailbox") not in (None, "") or not settings.EMAIL_ENABLED):
        raise ActionError(
            _("There is no mailbox to send from: add one in Settings → E-mail."), final=True
        )
    language = language_for(person)  # the client's own language, else the company's
    if template is not None:
        values = {**step.view, **merge.shared_values(step.actor)}
        rendered = template_render(template=template, values=values, language=language)
        subject, html, body = rendered.subject, rendered.html, rendered.text
    else:
        subject = templates.render_for(params, "subject", step.view, language)
        html, body = "", templates.render_for(params, "body", step.view, language)
    subject = subject[:200].replace("\r", " ").replace("\n", " ")
    if step.dry_run:
        return _("Would e-mail “%(subject)s” to %(address)s") % {
            "subject": subject,
            "address": address,
        }
    try:
        message_send(
            actor=step.actor,
            mailbox=mailbox,
            to=[address],
            subject=subject,
            text=body,
            html=html,
            person=person,
            company=Company.objects.filter(pk=client.get("id")).first()
            if kind == "company"
            else None,
            deal=Deal.objects.filter(pk=step.record_id).first() if step.subject == "deal" else None,
            # A step run again after a crash finds the message it queued the first time.
            idempotency_key=f"automation:{step.made.get('run')}:{step.made.get('path')}",
            rule_name=step.rule_name,
            marketing=marketing,
            tracked=bool(template and template.tracked),
        )
    except ValidationError as error:
        raise ActionError(message_of(error), final=True) from None
    return _("E-mail “%(subject)s” to %(address)s queued") % {
        "subject": subject,
        "address": address,
    }


register(
    Action(
        "send_email",
        gettext_lazy("Send an e-mail to the client"),
        ("person", "company", "deal", "task"),
        _check_email,
        _run_email,
        changes_record=False,
        # The message is on the client's and the deal's timeline already, by the rule.
        traced=("person", "company", "deal"),
    )
)


def _check_webhook(params: dict, subject: str) -> list[str]:
    problems = check_url(str(params.get("url") or ""))
    if len(str(params.get("secret") or "")) > 200:
        problems.append(_("The signing secret is at most 200 characters."))
    return problems


def _run_webhook(step: Step, params: dict) -> str:
    """POST the record's values as JSON, signed with the step's secret; a refused address
    or a 4xx answer fails the run, a network error or a 5xx is retried with back-off."""

    url = params["url"]
    if step.dry_run:
        return _("Would send the record to %(url)s") % {"url": origin(url)}
    payload = {
        # The same on a retry: a receiver that got the first try can tell it is a repeat.
        "id": f"{step.made.get('run')}.{step.made.get('path')}",
        "rule": step.rule_name,
        "record_type": step.subject,
        "record_id": step.record_id,
        "sent_at": step.now.isoformat(),
        "data": step.view,
    }
    try:
        answer = http.post_json(url, payload, secret=params.get("secret") or "")
    except http.Refused as error:
        raise ActionError(str(error), final=True) from None
    except http.Failed as error:
        raise ActionError(str(error), final=not error.retry) from None
    return _("Sent to %(url)s: answered %(status)s in %(ms)s ms") % {
        "url": origin(url),
        "status": answer.status,
        "ms": answer.elapsed_ms,
    }


def origin(url: str) -> str:
    """What a log may show of a webhook's address: its scheme, host and port. The path
    and query often hold a token (a chat's incoming-webhook address is a credential)."""

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


register(
    Action(
        "call_webhook",
        gettext_lazy("Call a webhook (another system's web address)"),
        ("person", "company", "deal", "task"),
        _check_webhook,
        _run_webhook,
        changes_record=False,
        network=True,
    )
)
