"""Demo dashboards: the head of sales' "Monday report", shared with everyone (each reader
sees their own figures in it) and e-mailed to them each Monday, and the marketer's own
"Channels this quarter"."""

from accord.accounts.models import User
from accord.reports import learning
from accord.reports.models import Dashboard, Widget
from accord.reports.services import dashboard_create, schedule_save

PLANS = [
    ("head@example.com", "Monday report", True, [
        ("sales", "number", "last_month", ""), ("win_rate", "number", "last_month", ""),
        ("sales_cycle", "number", "last_quarter", ""), ("tasks", "number", "this_month", ""),
        ("sales_by_manager", "bar", "last_month", ""), ("forecast", "bar", "next_3_months", ""),
        ("performance", "table", "last_month", "wide"),
    ]),
    ("marketing@example.com", "Channels this quarter", False, [
        ("channels", "number", "this_quarter", ""), ("new_clients", "number", "this_quarter", ""),
        ("channels", "bar", "this_quarter", ""), ("sales_by_channel", "bar", "this_quarter", ""),
        ("channels", "table", "last_12_months", "wide"),
    ]),
]  # fmt: skip


def populate() -> None:
    learning.train()  # the win probability, from the demo's two years of deals
    if Dashboard.objects.exists():
        return
    for email, name, shared, widgets in PLANS:
        owner = User.objects.filter(email=email, is_active=True).first()
        if owner is None:
            continue
        dashboard = dashboard_create(
            actor=owner,
            data={"name": name, "shared": shared},
            widgets=[
                Widget(report=report, chart=chart, period=period, wide=bool(wide))
                for report, chart, period, wide in widgets
            ],
        )
        if shared:  # the head of sales gets it every Monday at 8
            weekly = {"user": owner, "frequency": "weekly", "weekday": 0, "hour": 8}
            schedule_save(actor=owner, dashboard=dashboard, data=weekly)
