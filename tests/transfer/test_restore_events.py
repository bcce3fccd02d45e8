"""A backup taken in the middle of a write burst holds changes whose rules had not run
yet: restored, the worker runs every one of them, and none that had run runs again."""

import secrets

import pytest
from django.db import connection

from accord.automation.services import rule_save
from accord.core.events import held
from accord.sales.services import deal_create, deal_move
from accord.transfer.backup import make_backup
from tests.sales.conftest import pipeline, stages  # noqa: F401 (fixtures)
from tests.test_cli import run_accord

pytestmark = pytest.mark.django_db(transaction=True)

CALL_TASK = {
    "type": "create_task",
    "params": {
        "title": "Measure {{ deal.title }}",
        "assignee": {"to": "owner"},
        "due_in": {"amount": 1, "unit": "days"},
    },
}


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "source"
    settings.MEDIA_ROOT = tmp_path / "source" / "files"


@pytest.fixture
def empty_database(tmp_path):
    """A database URL of a new, empty instance on this test's engine."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"accord_restore_{secrets.token_hex(4)}"
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def rows(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as database:
            return database.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as database:
        return database.execute(sql).fetchall()


def test_a_backup_restored_from_the_middle_of_a_burst_runs_every_rule_that_was_due(
    admin,
    owner,
    stages,  # noqa: F811 (the fixture imported above)
    tmp_path,
    empty_database,
):
    rule_save(
        actor=admin,
        data={
            "name": "Measurement",
            "subject": "deal",
            "enabled": True,
            "trigger": "stage_entered",
            "trigger_options": {"stage": stages["Measured"].pk},
            "actions": [CALL_TASK, {"type": "add_tag", "params": {"tag": "measure"}}],
        },
    )
    deals = [deal_create(actor=owner, data={"title": f"Lot {n}"}) for n in range(16)]
    for deal in deals[:8]:  # moved, and their rule ran, before the snapshot
        deal_move(actor=owner, deal=deal, stage=stages["Measured"])
    with held():  # moved and committed; their rule not run yet when the snapshot is taken
        for deal in deals[8:]:
            deal_move(actor=owner, deal=deal, stage=stages["Measured"])
    archive, _manifest = make_backup(tmp_path / "middle.tar.gz")

    target = tmp_path / "target"
    target.mkdir()
    restored = run_accord(["restore", str(archive)], target, DATABASE_URL=empty_database)
    assert restored.returncode == 0, restored.stderr
    before = rows(empty_database, "SELECT count(*) FROM work_task")
    assert before == [(8,)]  # the rules of the second half had not run in the backup
    worker = run_accord(["worker", "--batch"], target, DATABASE_URL=empty_database)
    assert worker.returncode == 0, worker.stderr

    tasks = rows(
        empty_database,
        "SELECT d.title, count(t.id) FROM sales_deal d LEFT JOIN work_task t "
        "ON t.deal_id = d.id AND t.title LIKE 'Measure %' GROUP BY d.title",
    )
    assert sorted(tasks) == sorted((deal.title, 1) for deal in deals)  # each once
    tagged = rows(
        empty_database,
        "SELECT count(*) FROM sales_deal_tags l JOIN contacts_tag t ON t.id = l.tag_id "
        "WHERE t.name = 'measure'",
    )
    assert tagged == [(16,)]
    assert rows(empty_database, "SELECT count(*) FROM automation_run") == [(16,)]
    assert rows(
        empty_database, "SELECT count(*) FROM core_outboxevent WHERE state = 'pending'"
    ) == [(0,)]
