"""RFC 9457 problem details: the one shape of every API error."""

import logging
from http import HTTPStatus
from typing import Any

from django.http import JsonResponse
from ninja import Schema

from accord.core.api.schemas import id_of
from accord.core.errors import field_errors

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class Problem(Exception):
    """Raise from an API view to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_response(
    status: int,
    detail: str = "",
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def is_problem(response) -> bool:
    return response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)


def invalid(error) -> Problem:
    """A service's ValidationError as a 422 naming each field; nothing was saved."""

    return Problem(
        422, "The request has invalid values; nothing was saved.", errors=field_errors(error)
    )


def one_of(queryset, value: str | None, field: str):
    """A visible record by its API id (None for None), or a 422 naming the field."""
    if value is None:
        return None
    found = queryset.filter(pk=id_of(value)).first() if id_of(value) is not None else None
    if found is None:
        raise Problem(
            422,
            "The request has invalid values.",
            errors=[{"field": field, "message": f"No such {field}."}],
        )
    return found


class FieldProblem(Schema):
    field: str
    message: str
    code: str | None = None


class ProblemDetails(Schema):
    """The body of every error answer (RFC 9457), as `application/problem+json`."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None
