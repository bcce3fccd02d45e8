"""The step that makes a document from the rule's deal (an offer when the deal reaches
"Offer", the contract when it is won), through the documents' own service."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.automation.records import whole_number
from accord.documents.fields import language_choices
from accord.documents.models import DocumentTemplate
from accord.documents.services.documents import document_generate
from accord.sales.models import Deal


def _template(params: dict) -> DocumentTemplate | None:
    found = whole_number(params.get("template"))
    template = DocumentTemplate.objects.select_related("kind").filter(pk=found or 0).first()
    return None if template is None or template.retired or template.kind.retired else template


def _check(params: dict, subject: str) -> list[str]:
    problems = []
    if _template(params) is None:
        problems.append(_("Choose a document template in use."))
    language = params.get("language") or ""
    if language and language not in dict(language_choices()):
        problems.append(_("Choose one of the languages Accord speaks."))
    return problems


def _run(step: Step, params: dict) -> str:
    template = _template(params)
    if template is None:
        raise ActionError(_("Choose a document template in use."), final=True)
    deal = Deal.objects.select_related("owner").filter(pk=step.record_id or 0).first()
    if deal is None:
        raise ActionError(_("The deal is gone."), final=True)
    if step.dry_run:
        return _("Would make the document “%(name)s”") % {"name": template}
    try:
        document = document_generate(
            actor=step.actor, deal=deal, template=template, language=params.get("language") or ""
        )
    except (ValidationError, PermissionDenied) as error:
        raise ActionError(" ".join(getattr(error, "messages", [str(error)])), final=True) from None
    step.made.setdefault("documents", []).append(document.pk)
    return _("Made %(title)s %(number)s") % {"title": _(document.title), "number": document.number}


register(
    Action(
        "generate_document",
        gettext_lazy("Make a document"),
        ("deal",),
        _check,
        _run,
        changes_record=False,
        traced=("deal",),  # the deal's timeline says "made Invoice INV-…" by the rule
    )
)
