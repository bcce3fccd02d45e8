"""Makes every error under /api/ a problem document, whichever layer produced it, and
refuses input no database can store before any view sees it.

Ninja's handlers cover errors inside an endpoint; this covers the rest: unknown
routes, CSRF refusals, methods not allowed, and anything that escaped as an exception.
"""

import json
import logging
from http import HTTPStatus

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

from accord.api.problems import is_problem, problem_response
from accord.core.limits import LONG_TEXT, length_message, text_problem

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
URLENCODED, MULTIPART = "application/x-www-form-urlencoded", "multipart/form-data"
DETAILS = {
    403: "You may not do this.",
    404: "There is nothing at this address.",
    405: "This address does not accept the method.",
}


class ProblemDetailsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not is_problem(response)
        ):
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else None
            status = response.status_code
            detail = DETAILS.get(status, HTTPStatus(status).phrase)
            if status == 403 and b"CSRF" in getattr(response, "content", b""):
                detail = "CSRF check failed: send the X-CSRFToken header with session auth."
            return problem_response(status, detail, headers=headers)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX):
            return None
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return problem_response(500, "Something went wrong on the server; it has been logged.")


class InputGuardMiddleware:
    """Text with a NUL or a lone surrogate, anywhere in a query, a form or an API body, is
    refused naming the field (422 under /api/, 400 on a page), as is an API body over
    DATA_UPLOAD_MAX_MEMORY_SIZE (413) or a text in one over LONG_TEXT. One check for
    every field, so no endpoint or form can forget it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path.startswith(API_PREFIX)
        content_type = request.content_type or ""
        if is_api and _too_big(request, content_type):
            return problem_response(
                413,
                _("The request body is larger than %(limit)s bytes.")
                % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
            )
        found = _bad_field(request.GET)
        # An API upload is left unread here: the Idempotency-Key check reads its raw body,
        # which a parsed multipart stream no longer has (its text fields are few and typed).
        is_form = content_type == URLENCODED or (content_type == MULTIPART and not is_api)
        if found is None and is_form:
            found = _bad_field(request.POST)
        if found is None and is_api and content_type == "application/json":
            found = _bad_json(request.body)
        if found is None:
            return self.get_response(request)
        field, message = found
        if is_api:
            return problem_response(
                422,
                _("The request has invalid values; nothing was saved."),
                errors=[{"field": field, "message": message}],
            )
        return HttpResponseBadRequest(f"{field}: {message}", content_type="text/plain")


def _too_big(request, content_type: str) -> bool:
    # Files in a multipart upload have their own limits (the import's); the rest is read
    # into memory, which Django caps at DATA_UPLOAD_MAX_MEMORY_SIZE.
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit and content_type != MULTIPART


def _bad_field(query) -> tuple[str, str] | None:
    for key, values in query.lists():
        for text in (key, *values):
            problem = text_problem(text)
            if problem:
                return key if text is not key else _safe_name(key), problem
    return None


def _safe_name(key: str) -> str:
    return key.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _bad_json(body: bytes) -> tuple[str, str] | None:
    """The first text of a JSON body that no database stores, or too long; a body that is
    not JSON is left to the API to refuse."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    pending: list[tuple[str, object]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem is None and len(value) > LONG_TEXT:
                problem = length_message(LONG_TEXT)
            if problem:
                return path, problem
        elif isinstance(value, list):
            pending.extend((f"{path}.{i}".lstrip("."), item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}".lstrip(".")
                problem = text_problem(key)
                if problem:
                    return _safe_name(name), problem
                pending.append((name, item))
    return None
