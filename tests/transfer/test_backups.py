"""Scheduled backups: made when due or asked for, once with two workers, the oldest
removed beyond the number kept; the Settings screen lists and serves them to admins."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.transfer import services
from accord.transfer.backup import archives
from accord.transfer.models import BackupSchedule


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "files"


def make_archives(tmp_path, count: int) -> None:
    import os

    folder = tmp_path / "backups"
    folder.mkdir(exist_ok=True)
    for n in range(count):
        old = folder / f"accord-2026010{n}-000000.tar.gz"
        old.write_bytes(b"old")
        os.utime(old, (1_767_225_600 + n * 86400,) * 2)  # January 2026


def test_a_backup_is_made_when_due_once_and_the_oldest_go(db, tmp_path):
    make_archives(tmp_path, 3)
    BackupSchedule.objects.update_or_create(pk=1, defaults={"every_hours": 24, "keep": 2})
    now = timezone.now()
    assert services.backups_due(now) == 1
    assert services.backups_due(now + timedelta(minutes=1)) == 0  # not due again yet
    kept = archives()
    assert len(kept) == 2 and kept[0].stat().st_size > 100  # the new one, and the newest old
    assert kept[1].name == "accord-20260102-000000.tar.gz"
    assert services.backups_due(now + timedelta(hours=25)) == 1


def database_url(database: dict) -> str:
    """The URL of this test's database, for a child process's DATABASE_URL."""
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


@pytest.fixture
def apart(settings, tmp_path, monkeypatch):
    """Backups made by `accord backup` as the worker makes them: a process of its own,
    told this test's database and data dir as an instance tells it, by its environment."""
    settings.ACCORD_BACKUP_APART = True
    monkeypatch.setenv("DATABASE_URL", database_url(settings.DATABASES["default"]))
    monkeypatch.setenv("ACCORD_DATA_DIR", str(tmp_path))


def test_the_worker_makes_a_backup_in_a_process_of_its_own(db, tmp_path, apart):
    BackupSchedule.objects.update_or_create(pk=1, defaults={"every_hours": 24, "keep": 2})
    assert services.backups_due(timezone.now()) == 1
    [made] = archives()
    assert made.stat().st_size > 100
    assert BackupSchedule.current().last_error == ""


def test_a_backup_process_that_fails_is_reported_in_settings(db, tmp_path, apart, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:9/nowhere")
    BackupSchedule.objects.update_or_create(pk=1, defaults={"every_hours": 24, "keep": 2})
    assert services.backups_due(timezone.now()) == 0
    assert archives() == []
    assert "cannot reach the database" in BackupSchedule.current().last_error


def test_back_up_now_and_off(admin, tmp_path):
    BackupSchedule.objects.update_or_create(pk=1, defaults={"every_hours": 0, "keep": 5})
    assert services.backups_due(timezone.now()) == 0  # off
    services.backup_request(actor=admin)
    assert services.backups_due(timezone.now()) == 1
    assert BackupSchedule.current().requested_at is None
    assert services.backups_due(timezone.now()) == 0


def test_the_settings_screen_is_for_administrators(admin_client, manager_client, tmp_path):
    make_archives(tmp_path, 1)
    page = admin_client.get("/settings/backups/").content.decode()
    assert "accord-20260100-000000.tar.gz" in page and "Back up now" in page
    saved = admin_client.post("/settings/backups/", {"every_hours": "12", "keep": "3"})
    assert saved.status_code == 302
    assert (BackupSchedule.current().every_hours, BackupSchedule.current().keep) == (12, 3)
    wrong = admin_client.post("/settings/backups/", {"every_hours": "-1", "keep": "0"})
    assert (
        wrong.status_code == 200 and "errorlist" in wrong.content.decode()
    ) or "field-error" in wrong.content.decode()
    download = admin_client.get("/settings/backups/accord-20260100-000000.tar.gz")
    assert b"".join(download.streaming_content) == b"old"
    assert admin_client.get("/settings/backups/../secret").status_code == 404
    assert manager_client.get("/settings/backups/").status_code == 404
    assert admin_client.post("/settings/backups/", {"now": "1"}).status_code == 302
    assert BackupSchedule.current().requested_at is not None
