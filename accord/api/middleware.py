"""Makes every error under /api/ a problem document, whichever layer produced it.

Ninja's handlers cover errors inside an endpoint; this covers the rest: unknown
routes, CSRF refusals, methods not allowed, and anything that escaped as an exception.
"""

import logging
from http import HTTPStatus

from accord.api.problems import is_problem, problem_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
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
