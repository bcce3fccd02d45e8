"""Accord's URLs: the web app, the API under /api/v1/, and /healthz."""

from django.urls import include, path, re_path
from django.views.i18n import set_language

from accord.api.api import api
from accord.core.api.problems import problem_response
from accord.web import views as web


def api_not_found(request, rest=""):
    return problem_response(404, "There is nothing at this address.")


urlpatterns = [
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
    path("", include("accord.reports.urls")),
    path("", include("accord.automation.urls")),
    path("healthz", web.healthz, name="healthz"),
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]
