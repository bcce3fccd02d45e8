"""The NinjaAPI at /api/v1/, assembled from each app's router, and its error handlers."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.views.decorators.csp import csp_override
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from accord.accounts.api import router as accounts_router
from accord.api.auth import ActiveSession, BearerToken
from accord.api.openapi import BASE_PATH, AccordAPI
from accord.automation.api import router as automation_router
from accord.billing.api import router as billing_router
from accord.comms.api import router as comms_router
from accord.comms.call_api import router as calls_router
from accord.comms.mailing_api import router as mailings_router
from accord.comms.thread_api import router as threads_router
from accord.contacts.api import router as contacts_router
from accord.core.api.problems import Problem, problem_response
from accord.core.errors import field_errors
from accord.core.limits import count_message, length_message
from accord.documents.api import router as documents_router
from accord.documents.template_api import router as document_templates_router
from accord.marketing.api import router as marketing_router
from accord.reports.api import router as reports_router
from accord.sales.api import router as sales_router
from accord.sales.catalog_api import router as catalog_router
from accord.transfer.api import router as transfer_router
from accord.work.api import router as work_router

logger = logging.getLogger(__name__)

# Swagger UI (served from our static files, never a CDN) styles its widgets inline.
docs_csp = csp_override(
    {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
    }
)

api = AccordAPI(
    title="Accord API",
    version="1",
    description="Every Accord record, as JSON. Errors are RFC 9457 problem documents.",
    urls_namespace="api",
    auth=[BearerToken(), ActiveSession()],
    docs_decorator=docs_csp,
    servers=[{"url": BASE_PATH}],
)
api.add_router("/", accounts_router)
api.add_router("/", contacts_router)
api.add_router("/", sales_router)
api.add_router("/", catalog_router)
api.add_router("/", work_router)
api.add_router("/", transfer_router)
api.add_router("/", automation_router)
api.add_router("/", comms_router)
api.add_router("/", mailings_router)
api.add_router("/", threads_router)
api.add_router("/", calls_router)
api.add_router("/", documents_router)
api.add_router("/", document_templates_router)
api.add_router("/", marketing_router)
api.add_router("/", billing_router)
api.add_router("/", reports_router)


@api.exception_handler(Problem)
def on_problem(request, exc: Problem):
    return problem_response(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)


@api.exception_handler(RequestValidationError)
def on_request_invalid(request, exc: RequestValidationError):
    errors = [_request_error(error) for error in exc.errors]
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors):
        return problem_response(404, "No such record, or you may not see it.")
    return problem_response(422, "The request has invalid values.", errors=errors)


@api.exception_handler(ValidationError)
def on_invalid(request, exc: ValidationError):
    return problem_response(422, "The request has invalid values.", errors=field_errors(exc))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return problem_response(
        401,
        "Send a token as 'Authorization: Bearer <token>' or log in.",
        headers={"WWW-Authenticate": 'Bearer realm="accord"'},
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and exc.message.startswith("Cannot parse request body"):
        return problem_response(400, "The request body is not valid JSON.")
    return problem_response(exc.status_code, exc.message)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return problem_response(404, "No such record, or you may not see it.")


@api.exception_handler(PermissionDenied)
def on_denied(request, exc):
    return problem_response(403, str(exc) or "You may not do this.")


@api.exception_handler(Exception)
def on_error(request, exc):
    logger.exception("Unhandled API error in %s %s", request.method, request.path)
    return problem_response(500, "Something went wrong on the server; it has been logged.")


def _request_error(error: dict) -> dict:
    location = [str(part) for part in error.get("loc", ())]
    # ("body", "payload", "name") -> "name"; ("query", "limit") -> "limit"
    field_path = location[2:] if location[:1] == ["body"] else location[1:]
    return {"field": ".".join(field_path), "message": _message(error, field_path)}


def _message(error: dict, field_path: list[str]) -> str:
    """Pydantic's words for a limit, as the services say it ("At most 50 tags.")."""
    limit = (error.get("ctx") or {}).get("max_length")
    if limit is not None and error.get("type") == "too_long":
        return count_message(field_path[-1] if field_path else "", limit)
    if limit is not None and error.get("type") == "string_too_long":
        return length_message(limit)
    return error.get("msg", "Invalid value.")
