"""The report of client feedback: scores and comments of the surveys."""

from django.db.models import Avg, Case, Count, F, FloatField, Q, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.core.visibility import scope as visibility_scope
from accord.marketing.models import Survey, SurveyInvite
from accord.reports.catalog.base import Column, Figures, Scope, names_of, report, series_of

PROMOTER = Q(survey__scale=Survey.NPS, score__gte=9) | Q(survey__scale=Survey.STARS, score=5)
DETRACTOR = Q(survey__scale=Survey.NPS, score__lte=6) | Q(survey__scale=Survey.STARS, score__lte=2)
OUT_OF_TEN = Case(
    When(survey__scale=Survey.STARS, then=F("score") * 2),
    default=F("score"),
    output_field=FloatField(),
)


@report("feedback", gettext_lazy("Client feedback"),
        gettext_lazy("Per manager rated: survey answers, the average (out of 10), promoters "
                     "less detractors (NPS) and low scores."),
        ("bar", "number", "table"), needs="clients")  # fmt: skip
def feedback(scope: Scope) -> Figures:
    # The clients the reader may see, by their owner (a join, not a list of a million).
    invites = visibility_scope(SurveyInvite.objects.all(), user=scope.user,
                               record_type="clients", owner_field="person__owner")  # fmt: skip
    answers = scope.owned(invites, "rated").filter(
        answered_at__gte=scope.period.start, answered_at__lt=scope.period.end
    )
    grouped = list(
        answers.values("rated")
        .annotate(n=Count("id"), average=Avg(OUT_OF_TEN), up=Count("id", filter=PROMOTER),
                  down=Count("id", filter=DETRACTOR),
                  low=Count("id", filter=Q(score__lte=F("survey__low_score"))))
        .order_by("-n")
    )  # fmt: skip
    names = names_of([row["rated"] for row in grouped])
    rows = [
        {"label": names.get(row["rated"], "—"), "answers": row["n"],
         "average": round(row["average"], 1) if row["average"] is not None else None,
         "nps": round((row["up"] - row["down"]) * 100 / row["n"]), "low": row["low"]}
        for row in grouped
    ]  # fmt: skip
    everyone = sum(r["answers"] for r in rows)
    up = sum(row["up"] for row in grouped)
    down = sum(row["down"] for row in grouped)
    labels, series = series_of(rows, "label", ("average", _("Average, out of 10")))
    return Figures(
        total_label=_("promoters less detractors (NPS)"),
        columns=[Column("label", _("Manager")), Column("answers", _("Answers"), "int"),
                 Column("average", _("Average, out of 10"), "number"),
                 Column("nps", _("NPS"), "int"), Column("low", _("Low scores"), "int")],
        rows=rows, labels=labels, series=series,
        total=round((up - down) * 100 / everyone) if everyone else None,
    )  # fmt: skip
