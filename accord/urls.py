"""Accord's URLs: the web app, the API under /api/v1/, and /healthz."""

from django.urls import include, path, re_path
from django.views.i18n import set_language

from accord.api.api import api
from accord.comms.urls import hook_urlpatterns
from accord.core.api.problems import problem_response
from accord.marketing.urls import public_urlpatterns
from accord.web import views as web


def api_not_found(request, rest=""):
    return problem_response(404, "There is nothing at this address.")


urlpatterns = [
    # The API, the providers' deliveries and the visitors' pages first: resolved without
    # walking every page.
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("", include(hook_urlpatterns)),
    path("", include(public_urlpatterns)),
    path("login/", web.login, name="login"),
    path("logout/", web.logout, name="logout"),
    path("search/", web.search, name="search"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("accord.accounts.urls")),
    path("", include("accord.transfer.urls")),  # before clients/<plural>/
    path("", include("accord.contacts.urls")),
    path("", include("accord.sales.urls")),
    path("", include("accord.work.urls")),
    path("", include("accord.comms.urls")),
    path("", include("accord.documents.urls")),
    path("", include("accord.billing.urls")),
    path("", include("accord.marketing.urls")),
    path("", include("accord.reports.urls")),
    path("", include("accord.automation.urls")),
    path("healthz", web.healthz, name="healthz"),
]
