"""schemathesis fuzzes every operation of the API's own schema: no input gives a 500.

Runs in-process against the WSGI app with an administrator's token and real rows (a
person, a company, a deal, a task) that about half of the generated requests aim at.
Bounded for CI: a few examples per operation, a fixed seed, no stateful links.
"""

from datetime import timedelta
from itertools import count

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


# The coverage phase (every boundary and negative case the schema implies, ~20x the
# requests) is left to a manual `schemathesis run`; CI fuzzes a few examples per operation.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(ninja_api.get_openapi_schema(), config=CONFIG)
schema.app = get_wsgi_application()
cases = count()


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
    ids |= {"user_id": admin.pk, "pipeline_id": pipeline.pk, "company_id": company.pk}
    return {name: str(value) for name, value in ids.items()}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_answer_500(case, token, rows):
    if case.path_parameters and next(cases) % 2:
        for name in case.path_parameters:
            if name in rows:
                case.path_parameters[name] = rows[name]
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
