"""The reports a dashboard's widgets and the report pages show: each reads what the user
may see (deals, tasks, activities, clients, money and campaigns through their apps'
visibility-scoped queries; colleagues as far as the user's reports reach), over a
period, for a pipeline, a team or one colleague, and answers the same figures as a
table, a chart's series and one number with the period before it for its trend.

Money counts the company's currency; deals or payments in another currency are named
in a note under the figures rather than added at a made-up rate.

What reports are made of, and their register, are in base.py; the reports themselves, a
module a topic, register themselves when imported, in the order the report lists show."""

# isort: off
from accord.reports.catalog import sales, work, clients, money, feedback  # noqa: F401

# isort: on
from accord.reports.catalog.base import REPORTS, Column, Figures, Report, Scope, allowed_reports

__all__ = ["REPORTS", "Column", "Figures", "Report", "Scope", "allowed_reports"]
