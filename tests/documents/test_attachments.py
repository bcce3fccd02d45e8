"""Files on a client, a deal or a task: kept when they are what they say, refused with
the reason otherwise, on the record's history, downloaded only by who sees the record."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accord.accounts.services import user_create
from accord.core.timeline import timeline_of
from accord.documents.models import Attachment
from accord.work.services import task_create
from tests.conftest import PASSWORD, log_in

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def upload(name, content):
    return SimpleUploadedFile(name, content)


def test_a_file_is_kept_on_the_deal_listed_and_downloaded(deal, manager_client):
    added = manager_client.post("/files/", {"deal": deal.pk, "files": [
        upload("sketch.pdf", PDF), upload("notes.txt", b"Width 1200")]})  # fmt: skip
    assert added.status_code == 200
    page = added.content.decode()
    assert "sketch.pdf" in page and "notes.txt" in page
    sketch = Attachment.objects.get(name="sketch.pdf")
    assert (sketch.deal_id, sketch.content_type, sketch.size) == (
        deal.pk,
        "application/pdf",
        len(PDF),
    )
    download = manager_client.get(f"/files/{sketch.token}/sketch.pdf")
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF
    entry = timeline_of(deal).filter(kind="attachment").get()
    assert entry.data == {"names": ["sketch.pdf", "notes.txt"], "count": 2}


def test_a_file_that_lies_about_its_kind_is_refused_and_nothing_is_kept(deal, manager_client):
    files = [upload("photo.jpg", PDF), upload("fine.pdf", PDF), upload("run.pdf", b"MZ\x90\x00")]
    refused = manager_client.post("/files/", {"deal": deal.pk, "files": files})
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "photo.jpg" in page and "run.pdf" in page and "a Windows program" in page
    assert not Attachment.objects.exists()  # not even the good one: all or nothing
    empty = manager_client.post("/files/", {"deal": deal.pk})
    assert empty.status_code == 422 and "Choose a file." in empty.content.decode()


def test_files_of_clients_and_tasks_and_who_may_see_them(owner, deal, manager_client):
    due = timezone.now() + timedelta(days=1)
    task = task_create(actor=owner, data={"title": "Measure", "person": deal.person, "due_at": due})
    manager_client.post("/files/", {"person": deal.person_id, "files": [upload("id.pdf", PDF)]})
    manager_client.post("/files/", {"task": task.pk, "files": [upload("plan.pdf", PDF)]})
    kept = {a.name: a for a in Attachment.objects.all()}
    assert kept["id.pdf"].person_id == deal.person_id and kept["plan.pdf"].task_id == task.pk
    stranger = user_create(email="sam@example.com", password=PASSWORD, role="manager")
    other = Client()
    assert log_in(other, stranger.email)
    # The stranger sees every client card (a manager's role), but not the task or the deal.
    assert other.get(f"/files/{kept['plan.pdf'].token}/plan.pdf").status_code == 404
    assert other.get(f"/files/?task={task.pk}").status_code == 404
    assert other.get(f"/files/?deal={deal.pk}").status_code == 404
    refused = other.post("/files/", {"person": deal.person_id, "files": [upload("x.pdf", PDF)]})
    assert refused.status_code == 422 and "does not allow" in refused.content.decode()
    removed = manager_client.post(f"/files/{kept['id.pdf'].pk}/remove/")
    assert removed.status_code == 200 and not Attachment.objects.filter(name="id.pdf").exists()


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.ACCORD_ATTACHMENT_MB = 1


def test_a_file_over_the_limit_is_refused_with_its_size(deal, manager_client):
    big = upload("scan.pdf", PDF + b"0" * 2**20)
    refused = manager_client.post("/files/", {"deal": deal.pk, "files": [big]})
    assert refused.status_code == 422 and "over the 1 MB" in refused.content.decode()


def test_the_api_keeps_lists_hands_and_removes_files(deal, api):
    made = api.post(
        "/api/v1/attachments", {"deal": str(deal.pk), "files": [upload("sketch.pdf", PDF)]}
    )
    assert made.status_code == 201, made.content
    (kept,) = made.json()
    assert (kept["deal"], kept["name"], kept["size"]) == (str(deal.pk), "sketch.pdf", len(PDF))
    assert [item["name"] for item in api.get(f"/api/v1/attachments?deal={deal.pk}").json()] == [
        "sketch.pdf"
    ]
    download = api.get(kept["file"])
    assert b"".join(download.streaming_content) == PDF
    lying = api.post("/api/v1/attachments", {"deal": str(deal.pk), "files": [upload("a.png", PDF)]})
    assert lying.status_code == 422 and lying.json()["errors"][0]["field"] == "files"
    assert api.get("/api/v1/attachments?deal=9²").status_code == 422
    both = api.get(f"/api/v1/attachments?deal={deal.pk}&person={deal.person_id}")
    assert both.status_code == 422
    assert api.delete(f"/api/v1/attachments/{kept['id']}").status_code == 204
    assert not Attachment.objects.exists()
