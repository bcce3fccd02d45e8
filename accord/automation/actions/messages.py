"""The steps that tell someone: a notification in Accord, an e-mail to the client, a
call of another system's web address (a webhook)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation import templates
from accord.automation.actions.people import person_problems, who_is
from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.contacts.models import Person
from accord.core import http
from accord.core.http import check_url
from accord.work.models import Notification
from accord.work.services import notify


def _check_notify(params: dict, subject: str) -> list[str]:
    problems = templates.problems_in(params, "message")
    if not (params.get("message") or "").strip():
        problems.append(_("Write the message."))
    return problems + person_problems(params.get("to", {}))


def _run_notify(step: Step, params: dict) -> str:
    user = who_is(step, params.get("to", {}))
    message = templates.render(params["message"], step.view)[:1000]
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
    problems = templates.problems_in(params, "subject", "body")
    if not (params.get("subject") or "").strip() or not (params.get("body") or "").strip():
        problems.append(_("Write the e-mail's subject and text."))
    return problems


def _run_email(step: Step, params: dict) -> str:
    client = step.view.get("client") or {}
    address = client.get("email", "")
    if not address:
        raise ActionError(_("The client has no e-mail address."), final=True)
    consented = Person.objects.filter(pk=client.get("id"), marketing_consent=True)
    if params.get("marketing", True) and client.get("type") == "person" and not consented.exists():
        raise ActionError(_("The client has not agreed to marketing e-mail."), final=True)
    subject = templates.render(params["subject"], step.view)[:200].replace("\n", " ")
    if step.dry_run:
        return _("Would e-mail “%(subject)s” to %(address)s") % {
            "subject": subject,
            "address": address,
        }
    body = templates.render(params["body"], step.view)

    def send() -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])

    # The message goes once the step's changes are saved (a rolled-back step sends none).
    transaction.on_commit(send, robust=False)
    return _("E-mail “%(subject)s” sent to %(address)s") % {"subject": subject, "address": address}


register(
    Action(
        "send_email",
        gettext_lazy("Send an e-mail to the client"),
        ("person", "company", "deal", "task"),
        _check_email,
        _run_email,
        changes_record=False,
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
