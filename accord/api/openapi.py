"""The API's OpenAPI schema, made truthful for generated clients in one place.

Ninja builds the operations from each app's router; this adds what every operation
shares: paths relative to the one server `/api/v1`, clean operation ids (`listPeople`,
`moveDeal`), and the problem documents each operation may answer.
"""

from http import HTTPStatus
from typing import Any

from ninja import NinjaAPI

from accord.core.api.problems import PROBLEM_CONTENT_TYPE, ProblemDetails

BASE_PATH = "/api/v1"
SCHEMA_REF = "#/components/schemas/{model}"

# Nouns whose singular is not the plural less its "s".
SINGULAR = {"people": "person", "companies": "company", "activities": "activity"}
# The last word of a view's name as the verb of its operation id.
VERBS = {"detail": "get", "setup": "setUp", "switch": "enable"}
# Views named after what they answer rather than what they do: verb and noun suffix.
NOUN_VIEWS = {
    "timeline": ("list", "Timeline"),
    "runs": ("list", "Runs"),
    "failures": ("list", "Failures"),
    "file": ("download", "File"),
    "note": ("add", "Note"),
}
# Names the rules above cannot spell.
SPECIAL = {
    "me": "getMe",
    "me_update": "updateMe",
    "notifications_mark_read": "markNotificationsRead",
    "reports_communication": "getCommunicationReport",
    "people_channels": "listPersonChannels",
    "companies_channels": "listCompanyChannels",
    "threads_write": "writeInThread",
    "documents_word_file": "downloadDocumentWordFile",
    "forms_submissions": "listFormSubmissions",
}

WHEN = {
    400: "The body is not JSON, or a filter, sort, cursor or Idempotency-Key is not valid.",
    401: "No credentials, or a revoked or unknown token.",
    403: "The caller may see the record but not do this.",
    404: "No such record, or the caller may not see it.",
    409: "A request with the same Idempotency-Key is still running; retry in a moment.",
    412: "If-Match names an older version of the record; nothing was written.",
    413: "The body is larger than the server accepts.",
    422: "A field is missing or invalid: `errors` names each one; nothing was written.",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Your unique key for this request: a retry with it answers the first answer.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def operation_id(view_name: str) -> str:
    """`deals_move` -> `moveDeal`, `people_list` -> `listPeople`, `users_detail` -> `getUser`."""
    if view_name in SPECIAL:
        return SPECIAL[view_name]
    *resource, action = view_name.split("_")
    plural = "".join(word.title() for word in resource)
    if action == "list":
        return "list" + plural
    *head, last = resource
    singular = "".join(word.title() for word in [*head, singular_of(last)])
    if action in NOUN_VIEWS:
        verb, suffix = NOUN_VIEWS[action]
        return verb + singular + suffix
    return VERBS.get(action, action) + singular


def singular_of(noun: str) -> str:
    if noun in SINGULAR:
        return SINGULAR[noun]
    return noun.removesuffix("s")


def problem_response(status: int) -> dict[str, Any]:
    return {
        "description": f"{HTTPStatus(status).phrase}: {WHEN[status]}",
        "content": {
            PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
        },
    }


def error_statuses(operation: dict[str, Any]) -> list[int]:
    """The problem documents an operation may answer, from what it takes."""
    parameters = operation.get("parameters", [])
    takes = {parameter["in"] for parameter in parameters}
    headers = {parameter["name"] for parameter in parameters if parameter["in"] == "header"}
    statuses = []
    if "requestBody" in operation or "query" in takes or "Idempotency-Key" in headers:
        statuses.append(400)
    if operation.get("security"):
        statuses += [401, 403]
    if "path" in takes:
        statuses.append(404)
    if "Idempotency-Key" in headers:
        statuses.append(409)
    if "If-Match" in headers:
        statuses.append(412)
    if "requestBody" in operation:
        statuses.append(413)
    if parameters or "requestBody" in operation:
        statuses.append(422)
    return statuses


class AccordAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # Paths are relative to the one server, so a generated client takes the host alone.
        schema = super().get_openapi_schema(path_prefix="", path_params=path_params)
        schema["servers"] = [{"url": BASE_PATH}]
        definitions = ProblemDetails.model_json_schema(ref_template=SCHEMA_REF)
        schema["components"]["schemas"].update(definitions.pop("$defs", {}))
        schema["components"]["schemas"]["ProblemDetails"] = definitions
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                operation["operationId"] = operation_id(operation["operationId"])
                if method == "post":
                    operation["parameters"] = [*operation["parameters"], IDEMPOTENCY_KEY]
                responses = operation["responses"]
                for status in error_statuses(operation):
                    responses.setdefault(status, problem_response(status))
        return schema
