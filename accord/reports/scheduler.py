"""What the worker does for reports on each tick: the quarter's forecast is kept once, and
each dashboard due to be sent goes to its recipients as a PDF, each copy printed as that
recipient (their access, their language, their time zone). A sending is claimed before it
is made, so two workers never both send it, and a worker back from downtime sends it once."""

import logging
import smtplib
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accord.accounts.models import User
from accord.core.company import zone_of
from accord.reports.models import Schedule
from accord.reports.printing import dashboard_pdf
from accord.reports.services import forecast_snapshot_take, schedule_claim, schedule_failed

log = logging.getLogger(__name__)
BATCH = 20


def recipients(schedule: Schedule) -> list[User]:
    people = User.objects.filter(is_active=True).exclude(email="")
    if schedule.user_id:
        return list(people.filter(pk=schedule.user_id))
    return list(people.filter(role_id=schedule.role_id))


def send_one(schedule: Schedule, reader: User, now: datetime) -> None:
    dashboard = schedule.dashboard
    widgets = list(dashboard.widgets.select_related("pipeline", "team", "member"))
    with (
        translation.override(reader.language or settings.LANGUAGE_CODE),
        timezone.override(zone_of(reader.time_zone)),
    ):
        pdf = dashboard_pdf(reader, dashboard.name, widgets)
        day = date_format(timezone.localdate(now), "SHORT_DATE_FORMAT")
        subject = _("%(name)s, %(day)s") % {"name": dashboard.name, "day": day}
        body = _(
            "The dashboard “%(name)s” as of %(day)s is attached: the figures your own access "
            "allows. Open it in Accord: %(link)s"
        ) % {"name": dashboard.name, "day": day,
             "link": f"{settings.ACCORD_BASE_URL}/reports/dashboards/{dashboard.pk}/"}  # fmt: skip
    mail = EmailMessage(subject, body, to=[reader.email])
    mail.attach(f"{slugify(dashboard.name) or 'dashboard'}.pdf", pdf, "application/pdf")
    mail.send()


def tick(now: datetime) -> int:
    sent = 0
    due = Schedule.objects.filter(next_at__lte=now).select_related("dashboard", "dashboard__owner")
    for schedule in due[:BATCH]:
        if not schedule_claim(schedule, now):
            continue  # another worker took it
        for reader in recipients(schedule):
            try:
                send_one(schedule, reader, now)
                sent += 1
            except (OSError, smtplib.SMTPException) as error:
                schedule_failed(schedule, f"{reader.email}: {error}")
                log.warning("could not send dashboard %s to %s: %s",
                            schedule.dashboard_id, reader.email, error)  # fmt: skip
    return sent


def forecast_tick(now: datetime) -> None:
    """The quarter's forecast kept on its first day (on an instance new in the quarter, on
    its first tick), for the report that compares it with what the quarter won."""
    forecast_snapshot_take(now=now)
