"""A client generated from the API's own schema by openapi-python-client works unedited."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from accord.accounts.services import token_create
from accord.api.api import api as ninja_api
from accord.documents.word import CONTENT_TYPE as WORD

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "accord_client"


@pytest.fixture
def generated(tmp_path):
    """The client package, generated from /api/v1/openapi.json into a temporary folder."""
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(ninja_api.get_openapi_schema()))
    config = tmp_path / "config.json"
    # A PDF or a Word file is bytes to the client, as the generator reads octet-stream.
    overrides = {
        "application/pdf": "application/octet-stream",
        WORD: "application/octet-stream",
    }
    config.write_text(json.dumps({"post_hooks": [], "content_type_overrides": overrides}))
    command = [GENERATOR, "generate", "--path", schema, "--config", config]
    command += ["--output-path", tmp_path / PACKAGE, "--meta", "none", "--fail-on-warning"]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_a_generated_client_lists_creates_reads_and_changes_people(generated, live_server, admin):
    client_module = importlib.import_module(f"{PACKAGE}.client")
    clients = Operations(f"{PACKAGE}.api.clients")
    models = importlib.import_module(f"{PACKAGE}.models")
    _token, key = token_create(user=admin, name="generated client")
    client = client_module.AuthenticatedClient(base_url=f"{live_server.url}/api/v1", token=key)

    with client:
        assert clients.list_people.sync(client=client).items == []

        body = models.PersonIn(first_name="Grace", last_name="Hopper", city="Arlington")
        created = clients.create_person.sync_detailed(client=client, body=body)
        assert created.status_code == 201
        person = created.parsed
        assert isinstance(person, models.PersonOut)
        assert (person.first_name, person.city) == ("Grace", "Arlington")
        assert created.headers["Location"] == f"/api/v1/people/{person.id}"

        read = clients.get_person.sync_detailed(record_id=person.id, client=client)
        assert read.parsed.last_name == "Hopper"
        etag = read.headers["ETag"]

        changed = clients.update_person.sync_detailed(
            record_id=person.id, client=client, body=models.PersonIn(city="New York"), if_match=etag
        )
        assert changed.status_code == 200
        assert changed.parsed.city == "New York"
        assert changed.headers["ETag"] != etag

        stale = clients.update_person.sync_detailed(
            record_id=person.id, client=client, body=models.PersonIn(city="Boston"), if_match=etag
        )
        assert stale.status_code == 412
        assert isinstance(stale.parsed, models.ProblemDetails)
        assert clients.get_person.sync(record_id=person.id, client=client).city == "New York"

        missing = clients.get_person.sync_detailed(record_id="999999", client=client)
        assert missing.status_code == 404
        assert missing.parsed.status == 404

        nameless = clients.create_person.sync_detailed(
            client=client, body=models.PersonIn(city="Nowhere")
        )
        assert nameless.status_code == 422
        assert [error.field for error in nameless.parsed.errors] == ["first_name"]

        assert [p.id for p in clients.list_people.sync(client=client).items] == [person.id]


class Operations:
    """The generated modules of a tag, one per operation: `clients.get_person.sync(...)`."""

    def __init__(self, package: str):
        self.package = package

    def __getattr__(self, name: str):
        return importlib.import_module(f"{self.package}.{name}")
