"""schemathesis fuzzes every operation of the API's own schema: no input gives a 500, and
every answer is one the schema describes (status, content type, body, headers).

Runs in-process against the WSGI app with an administrator's token and real rows (a
person, a company, a deal, a task) that about half of the generated requests aim at.
Bounded for CI: a few examples per operation, a fixed seed, no stateful links.
"""

import zlib
from datetime import timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accord.accounts.services import token_create
from accord.api.api import api as ninja_api
from accord.contacts.services import company_create, person_create
from accord.sales.models import Pipeline
from accord.sales.services import deal_create
from accord.work.services import task_create

EXAMPLES_PER_OPERATION = 6


# The coverage phase (every boundary and negative case the schema implies) takes about
# three times as long: run it by hand against a demo instance with
# `schemathesis run http://127.0.0.1:8000/api/v1/openapi.json -H "Authorization: Bearer acc_..."`.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(ninja_api.get_openapi_schema(), config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def connection_kept_open_between_requests():
    # A WSGI request ends by closing the database connection, which would end the test's
    # transaction; Django's own test client keeps it open the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(admin) -> str:
    _token, key = token_create(user=admin, name="fuzz")
    return key


@pytest.fixture
def rows(admin) -> dict[str, str]:
    """Records the requests aim at, by the name of the path parameter that takes their id."""
    person = person_create(actor=admin, data={"first_name": "Fuzz", "last_name": "Target"})
    company = company_create(actor=admin, data={"name": "Fuzz Ltd"})
    pipeline = Pipeline.objects.first()
    deal = deal_create(actor=admin, data={"title": "Fuzzed deal", "pipeline": pipeline})
    task = task_create(
        actor=admin, data={"title": "Fuzzed task", "due_at": timezone.now() + timedelta(days=1)}
    )
    ids = {"record_id": person.pk, "deal_id": deal.pk, "task_id": task.pk}
    ids |= {"user_id": admin.pk, "pipeline_id": pipeline.pk, "company": company.pk}
    return {name: str(value) for name, value in ids.items()}


def aim(case, rows: dict[str, str]) -> None:
    """Point about half of the cases (chosen by their data, so runs repeat) at real rows."""
    if not case.path_parameters or zlib.crc32(repr(case.path_parameters).encode()) % 2:
        return
    for name in case.path_parameters:
        if case.operation.path.startswith("/companies/") and name == "record_id":
            case.path_parameters[name] = rows["company"]
        elif name in rows:
            case.path_parameters[name] = rows[name]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_500_or_other_than_the_schema_says(case, token, rows):
    aim(case, rows)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
    )
