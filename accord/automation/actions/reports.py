"""The step that e-mails a dashboard as a PDF (the Monday report, the window shop's report
to the head of sales): printed as its recipient sees it — their access, their language."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.automation.actions.people import person_problems, who_is
from accord.automation.actions.registry import Action, ActionError, Step, register
from accord.automation.records import whole_number
from accord.core.company import zone_of
from accord.reports.models import Dashboard
from accord.reports.printing import dashboard_pdf


def _dashboard(params: dict) -> Dashboard | None:
    found = Dashboard.objects.filter(pk=whole_number(params.get("dashboard")) or 0).first()
    return found if found is not None and found.shared else None


def _check(params: dict, subject: str) -> list[str]:
    problems = [] if _dashboard(params) else [_("Choose a dashboard shared with everyone.")]
    return problems + person_problems(params.get("to", {}))


def _run(step: Step, params: dict) -> str:
    dashboard = _dashboard(params)
    if dashboard is None:
        raise ActionError(_("Choose a dashboard shared with everyone."), final=True)
    user = who_is(step, params.get("to", {}))
    if not user.email:
        raise ActionError(_("%(user)s has no e-mail address.") % {"user": user}, final=True)
    if step.dry_run:
        return _("Would e-mail the dashboard “%(name)s” to %(user)s") % {
            "name": dashboard, "user": user}  # fmt: skip
    widgets = list(dashboard.widgets.select_related("pipeline", "team", "member"))
    with (
        translation.override(user.language or settings.LANGUAGE_CODE),
        timezone.override(zone_of(user.time_zone)),
    ):
        pdf = dashboard_pdf(user, dashboard.name, widgets)
        subject = _("%(name)s, from the rule “%(rule)s”") % {
            "name": dashboard.name, "rule": step.rule_name}  # fmt: skip
        body = _("The dashboard “%(name)s” is attached: the figures your own access allows.") % {
            "name": dashboard.name}  # fmt: skip
    mail = EmailMessage(subject, body, to=[user.email])
    mail.attach(f"{slugify(dashboard.name) or 'dashboard'}.pdf", pdf, "application/pdf")
    try:
        mail.send()
    except OSError as error:  # the mail server is away: the run tries again
        raise ActionError(
            _("The mail server did not take it: %(error)s") % {"error": error}
        ) from error
    return _("E-mailed the dashboard “%(name)s” to %(user)s") % {
        "name": dashboard, "user": user}  # fmt: skip


register(
    Action(
        "send_dashboard",
        gettext_lazy("E-mail a dashboard"),
        ("person", "company", "deal", "task"),
        _check,
        _run,
        changes_record=False,
        network=True,
    )
)
