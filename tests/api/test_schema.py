"""What /api/v1/openapi.json tells a client generator is what the API does."""

import re

import pytest

PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}


@pytest.fixture
def schema(anonymous_api):
    return anonymous_api.get("/api/v1/openapi.json").json()


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_paths_are_relative_to_the_one_server(schema):
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert "/people/{record_id}" in schema["paths"]
    assert not [path for path in schema["paths"] if path.startswith("/api/")]


def test_every_operation_has_a_clean_unique_id(schema):
    ids = [operation["operationId"] for _path, _method, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i)] == []
    assert {"listPeople", "createPerson", "getDeal", "moveDeal", "listDealTimeline"} <= set(ids)


def test_ids_in_paths_are_strings_like_the_ids_in_bodies(schema):
    path_ids = [
        parameter
        for _path, _method, operation in operations(schema)
        for parameter in operation["parameters"]
        if parameter["in"] == "path" and parameter["name"].endswith("_id")
    ]
    assert path_ids
    assert {parameter["schema"]["type"] for parameter in path_ids} == {"string"}


def test_every_operation_declares_its_problem_documents(schema):
    problem = schema["paths"]["/deals/{deal_id}"]["patch"]["responses"]
    for status in ("400", "401", "403", "404", "412", "422"):
        assert problem[status]["content"]["application/problem+json"]["schema"] == PROBLEM
    details = schema["components"]["schemas"]["ProblemDetails"]
    assert set(details["required"]) == {"title", "status"}
    for path, method, operation in operations(schema):
        if operation.get("security"):
            assert "401" in operation["responses"], (method, path)
        if "{" in path:
            assert "404" in operation["responses"], (method, path)


def test_if_match_etag_and_location_are_declared_where_they_are_used(schema):
    paths = schema["paths"]
    for path in ("/people/{record_id}", "/deals/{deal_id}", "/tasks/{task_id}"):
        update = paths[path]["patch"]
        assert "If-Match" in [p["name"] for p in update["parameters"] if p["in"] == "header"]
        assert "412" in update["responses"]
        assert "ETag" in update["responses"]["200"]["headers"]
        assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"]
    for path in ("/people", "/companies", "/deals", "/tasks"):
        assert set(paths[path]["post"]["responses"]["201"]["headers"]) == {"Location", "ETag"}


def test_create_bodies_mark_what_the_server_requires(schema):
    components = schema["components"]["schemas"]

    def body_of(path):
        ref = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        return components[ref["schema"]["$ref"].rsplit("/", 1)[1]]

    assert "name" in body_of("/companies")["required"]
    assert "title" in body_of("/deals")["required"]
    assert {"title", "due_at"} <= set(body_of("/tasks")["required"])
    assert "name" in body_of("/products")["required"]


def test_the_deal_timeline_and_the_export_file_are_typed(schema):
    timeline = schema["paths"]["/deals/{deal_id}/timeline"]["get"]["responses"]["200"]
    page = timeline["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    items = schema["components"]["schemas"][page]["properties"]["items"]["items"]
    assert items == {"$ref": "#/components/schemas/EventOut"}
    export_file = schema["paths"]["/exports/{job_id}/file"]["get"]["responses"]["200"]
    assert export_file["content"]["text/csv"]["schema"]["format"] == "binary"


def test_a_path_id_that_is_not_a_number_is_a_404(api):
    response = api.get("/api/v1/deals/abc")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_ids_in_bodies_and_answers_are_strings(schema):
    ids = {
        (name, field): prop
        for name, component in schema["components"]["schemas"].items()
        for field, prop in component.get("properties", {}).items()
        if field == "id" or field.endswith("_id")
    }
    assert ("RunOut", "rule_id") in ids
    assert [key for key, prop in ids.items() if "integer" in str(prop)] == []
