"""Imports and exports through the API: upload, set up, preview, start, poll, failed rows,
undo; an export created, polled and downloaded."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.accounts.services import token_create
from accord.contacts.models import Person
from tests.conftest import ApiClient


@pytest.fixture
def admin_api(admin):
    return ApiClient(token_create(user=admin, name="sync")[1])


def test_an_import_from_upload_to_undo(admin_api):
    data = "Name,Phone,E-mail\nAnna,+79123456789,anna@example.com\nBoris,12,\n"
    created = admin_api.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("people.csv", data.encode()), "record_type": "people"},
    )
    assert created.status_code == 201, created.content
    job = created.json()
    assert (job["kind"], job["header"], job["mapping"]) == (
        "csv", ["Name", "Phone", "E-mail"], {"0": "full_name", "1": "phone", "2": "email"},
    )  # fmt: skip
    url = f"/api/v1/imports/{job['id']}"
    bad = admin_api.put_json(f"{url}/setup", {"mapping": {"1": "phone"}, "match_by": ""})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "mapping"
    setup = admin_api.put_json(
        f"{url}/setup", {"mapping": job["mapping"], "match_by": "email", "on_duplicate": "skip"}
    )
    assert setup.status_code == 200
    rows = admin_api.get(f"{url}/preview").json()
    assert [r["action"] for r in rows] == ["create", "fail"]
    assert rows[1]["cells"][1]["problem"]
    assert admin_api.post(f"{url}/start").status_code == 202
    assert admin_api.post(f"{url}/start").status_code == 422  # started once
    from accord.transfer.services import import_run

    import_run(int(job["id"]))
    done = admin_api.get(url).json()
    assert (done["status"], done["created"], done["failed"]) == ("done", 1, 1)
    failures = admin_api.get(f"{url}/failures").json()["items"]
    assert failures[0]["row"] == 3 and "Boris" in failures[0]["values"]
    assert admin_api.post(f"{url}/undo").json() == {"removed": 1, "restored": 0, "kept": 0}
    assert not Person.objects.exists()


def test_someone_without_the_right_gets_a_403(api):
    refused = api.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("p.csv", b"name\nA\n")}
    )  # a manager
    assert refused.status_code == 403


def test_an_export_through_the_api(admin_api, admin):
    from accord.contacts.services import person_create

    person_create(actor=admin, data={"first_name": "Anna", "city": "Riga"})
    created = admin_api.post_json(
        "/api/v1/exports", {"format": "csv", "filters": {"city": "Riga"}, "columns": ["city"]}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "done" and body["file"] == f"/api/v1/exports/{body['id']}/file"
    download = admin_api.get(body["file"])
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["Name", "City"], ["Anna", "Riga"]]
    bad = admin_api.post_json("/api/v1/exports", {"filters": {"no_contact_days": "x"}})
    assert bad.status_code == 422


def test_the_api_sets_a_team_and_turns_automation_off(admin_api, admin):
    from accord.accounts.services import team_save

    team = team_save(actor=admin, name="Sales", head=None, members=[admin], lead_rule="fixed",
                     lead_user=admin)  # fmt: skip
    data = "Name,E-mail\nAnna,anna@example.com\n"
    job = admin_api.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("people.csv", data.encode()), "record_type": "people"},
    ).json()
    url = f"/api/v1/imports/{job['id']}/setup"
    setup = {"mapping": job["mapping"], "match_by": "email", "on_duplicate": "skip"}
    unknown = admin_api.put_json(url, {**setup, "team": "999"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "team"
    done = admin_api.put_json(url, {**setup, "team": str(team.pk), "run_automation": False})
    assert done.status_code == 200 and done.json()["run_automation"] is False
