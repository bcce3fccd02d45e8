"""The public unsubscribe address of marketing e-mail, /u/<token> (RFC 8058): a POST
unsubscribes at once — a mail program's one-click button sends it with no cookie and no
CSRF token, so this view alone is exempt; the signed token is the proof — and a GET shows
a calm page with a button, in the person's language (mail scanners follow links: a GET
never unsubscribes)."""

from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accord.comms import unsubscribe
from accord.comms.services import unsubscribe_by_token
from accord.comms.services.mailings import language_of_token
from accord.core.company import company


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request, token: str):
    genuine = unsubscribe.read(token) is not None
    language = language_of_token(token)
    with translation.override(language):
        done = False
        if request.method == "POST" and genuine:
            done = unsubscribe_by_token(token=token) is not None
        context = {
            "genuine": genuine,
            "done": done,
            "already": genuine
            and not done
            and unsubscribe.is_unsubscribed(person_id=unsubscribe.read(token)["person_id"]),
            "company_name": company().name,
            "token": token,
            "language": language,
            "page_title": "",
        }
        response = render(
            request, "comms/unsubscribe.html", context, status=200 if genuine else 404
        )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
