"""The `accord` command as operators script it: clear output, one-line failures, exit codes."""

import io
import secrets

import pytest

from accord.accounts.models import ApiToken, User
from accord.cli import main
from tests.conftest import PASSWORD, ApiClient, log_in
from tests.instances import run_accord


def test_help_lists_every_command(tmp_path):
    result = run_accord(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ["serve", "migrate", "worker", "demo", "createuser", "token", "check"]:
        assert command in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://root@localhost/accord"),
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/accord"),
        ("ACCORD_TIME_ZONE", "Mars/Olympus"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("SECRET_KEY", "short"),
        ("ACCORD_LANGUAGE", "xx"),
        ("ACCORD_SESSION_AGE", "a week"),
        ("ACCORD_BASE_URL", "crm.example.com"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path, variable, value):
    result = run_accord(["check"], tmp_path, **{variable: value})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    named = variable if variable != "DATABASE_URL" or "mysql" in value else "database"
    assert named in lines[0]


def test_production_settings_pass_the_deploy_check_without_warnings(tmp_path, instance):
    production = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "crm.example.com",
        "ACCORD_HTTPS": "true",
        "ACCORD_EMAIL_URL": "smtp+tls://crm:secret@mail.example.com:587",
    }
    instance("migrated", tmp_path)
    result = run_accord(["check", "--deploy"], tmp_path, **production)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout
    # Without a mail server Accord still runs: only the "no mailer" warning is silenced.
    del production["ACCORD_EMAIL_URL"]
    result = run_accord(["check", "--deploy"], tmp_path, **production)
    assert "no issues (1 silenced)" in result.stdout


def test_a_bad_mail_server_address_stops_start_up_naming_the_variable(tmp_path):
    result = run_accord(["check"], tmp_path, ACCORD_EMAIL_URL="http://mail.example.com")
    assert result.returncode != 0
    assert "ACCORD_EMAIL_URL" in result.stdout + result.stderr


def test_the_secret_key_is_made_once_and_kept_private(tmp_path):
    from accord.config import read_secret_key

    key = read_secret_key(tmp_path)
    assert len(key) >= 50
    assert read_secret_key(tmp_path) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_createuser_without_a_terminal_makes_a_user_who_can_log_in(db, capsys, client):
    code = main(["createuser", "--email", "Nina@Example.com", "--password", PASSWORD,
                 "--role", "head-of-sales", "--name", "Nina Head"])  # fmt: skip
    assert code == 0
    assert "nina@example.com" in capsys.readouterr().out
    user = User.objects.get(email="nina@example.com")
    assert (user.full_name, user.role.slug) == ("Nina Head", "head-of-sales")
    assert log_in(client, "nina@example.com")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "x@example.com", "--password", "12345", "--role", "manager"], "password"),
        (["--email", "x@example.com", "--password", PASSWORD, "--role", "boss"], "role"),
        (["--email", "not-an-email", "--password", PASSWORD, "--role", "manager"], "e-mail"),
        (["--email", "x@example.com", "--role", "manager"], "--password"),
    ],
)
def test_createuser_refuses_bad_input_in_one_line(db, capsys, args, message):
    assert main(["createuser", *args]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("accord: ")
    assert message in error
    assert len(error.splitlines()) == 1
    assert not User.objects.filter(email="x@example.com").exists()


def test_createuser_refuses_an_e_mail_that_is_taken(owner, capsys):
    code = main(["createuser", "--email", owner.email.upper(), "--password", PASSWORD,
                 "--role", "manager"])  # fmt: skip
    assert code == 1
    assert "already exists" in capsys.readouterr().err


def test_token_create_prints_a_working_token_once(owner, capsys):
    assert main(["token", "create", "--user", owner.email, "--name", "CI"]) == 0
    key = capsys.readouterr().out.strip()
    assert ApiClient(key).get("/api/v1/me").json()["email"] == owner.email
    assert ApiToken.objects.get(user=owner).name == "CI"

    assert main(["token", "list", "--user", owner.email]) == 0
    listing = capsys.readouterr().out
    assert "CI" in listing
    assert key not in listing


def test_token_create_for_an_unknown_user_fails_clearly(db, capsys):
    assert main(["token", "create", "--user", "ghost@example.com", "--name", "x"]) == 1
    assert capsys.readouterr().err.strip() == "accord: no user with the e-mail ghost@example.com"


def test_token_revoke_closes_the_api_for_that_token(owner, capsys):
    main(["token", "create", "--user", owner.email, "--name", "old"])
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=owner)
    assert main(["token", "revoke", "--user", owner.email, "--id", str(token.pk)]) == 0
    assert ApiClient(key).get("/api/v1/me").status_code == 401


def test_demo_loads_users_in_every_role_and_only_into_an_empty_database(db, capsys, client):
    assert main(["demo", "--if-empty"]) == 0
    output = capsys.readouterr().out
    assert "admin@example.com" in output
    roles = set(User.objects.values_list("role__slug", flat=True))
    assert roles == {"administrator", "head-of-sales", "manager", "marketing", "support",
                     "read-only"}  # fmt: skip
    count = User.objects.count()
    assert main(["demo", "--if-empty"]) == 0
    assert User.objects.count() == count
    from django.conf import settings

    assert log_in(client, "manager@example.com", settings.ACCORD_DEMO_PASSWORD)


def test_import_a_file_then_export_everyone_from_the_command_line(tmp_path, instance):
    env = {"ACCORD_PHONE_REGION": "RU"}
    instance("migrated", tmp_path)
    created = run_accord(
        ["createuser", "--email", "ops@example.com", "--password", PASSWORD,
         "--role", "administrator"], tmp_path, **env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    source = tmp_path / "people.csv"
    source.write_text(
        "Фамилия;Имя;Телефон\nПетрова;Анна;8 912 345-67-89\nБез;Номера;12\n", encoding="cp1251"
    )
    dry = run_accord(["import", str(source), "--dry-run"], tmp_path, **env)
    assert dry.returncode == 0, dry.stderr
    assert "1 would be created" in dry.stdout and "row 3:" in dry.stdout
    real = run_accord(["import", str(source)], tmp_path, **env)
    assert real.returncode == 0 and "1 created" in real.stdout, real.stderr
    out = tmp_path / "everyone.csv"
    exported = run_accord(["export", "--type", "people", "--out", str(out)], tmp_path, **env)
    assert exported.returncode == 0, exported.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert "Анна Петрова" in text and "'+79123456789" in text and "Номера" not in text
    bad = run_accord(["import", str(tmp_path / "missing.csv")], tmp_path, **env)
    assert bad.returncode != 0 and "no such file" in bad.stderr


def test_backup_while_running_then_restore_into_an_empty_instance_sqlite(tmp_path, instance):
    source, target = instance("demo", tmp_path / "source"), tmp_path / "target"
    target.mkdir()
    (source / "var" / "files" / "imports").mkdir(parents=True, exist_ok=True)
    (source / "var" / "files" / "imports" / "old.csv").write_text("name\nAnna\n")
    archive = tmp_path / "accord.tar.gz"
    made = run_accord(["backup", str(archive)], source)
    assert made.returncode == 0, made.stderr
    kept = sum(1 for path in (source / "var" / "files").rglob("*") if path.is_file())
    assert "tables" in made.stdout and f"{kept} files" in made.stdout  # old.csv, the PDFs
    again = run_accord(["backup", str(archive)], source)
    assert again.returncode != 0 and "exists already" in again.stderr
    restored = run_accord(["restore", str(archive)], target)
    assert restored.returncode == 0, restored.stderr
    assert "each as in the backup" in restored.stdout
    assert (target / "var" / "files" / "imports" / "old.csv").read_text() == "name\nAnna\n"
    twice = run_accord(["restore", str(archive)], target)
    assert twice.returncode != 0 and "not empty" in twice.stderr
    result = run_accord(["token", "list", "--user", "admin@example.com"], target)
    assert result.returncode == 0  # the restored instance works: its users are there


def test_a_backup_into_a_folder_that_does_not_exist_says_so_in_one_line(tmp_path, instance):
    instance("migrated", tmp_path)
    made = run_accord(["backup", str(tmp_path / "nowhere" / "accord.tar.gz")], tmp_path)
    assert made.returncode != 0
    assert made.stderr.strip().splitlines() == [
        f"accord: {tmp_path / 'nowhere'} is not a folder: create it or choose another path"
    ]
    assert not list(tmp_path.glob("**/*.partial"))


def test_a_damaged_backup_is_refused(tmp_path, instance):
    import tarfile

    source, target = instance("migrated", tmp_path / "source"), tmp_path / "target"
    target.mkdir()
    archive = tmp_path / "accord.tar.gz"
    assert run_accord(["backup", str(archive)], source).returncode == 0
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as original, tarfile.open(damaged, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member) if member.isfile() else None
            if member.name == "database.sqlite3":
                body = data.read()
                body = body[:-10] + b"0123456789"
                member.size = len(body)
                copy.addfile(member, io.BytesIO(body))
            else:
                copy.addfile(member, data)
    refused = run_accord(["restore", str(damaged)], target)
    assert refused.returncode != 0 and "damaged" in refused.stderr
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup")
    assert "not an Accord backup" in run_accord(["restore", str(junk)], target).stderr


def test_backup_and_restore_on_postgresql(tmp_path):
    """Two databases of their own on the local PostgreSQL: one backed up, one restored."""
    import psycopg

    names = [f"accord_backup_{secrets.token_hex(4)}_{n}" for n in (1, 2)]
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    try:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        urls = [f"postgres://postgres@127.0.0.1:5432/{name}" for name in names]
        assert run_accord(["demo"], tmp_path, DATABASE_URL=urls[0]).returncode == 0
        nowhere = tmp_path / "nowhere" / "pg.tar.gz"
        refused = run_accord(["backup", str(nowhere)], tmp_path, DATABASE_URL=urls[0])
        assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1
        archive = tmp_path / "pg.tar.gz"
        made = run_accord(["backup", str(archive)], tmp_path, DATABASE_URL=urls[0])
        assert made.returncode == 0, made.stderr
        restored = run_accord(["restore", str(archive)], tmp_path, DATABASE_URL=urls[1])
        assert restored.returncode == 0, restored.stderr
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{names[1]}") as db:
            people = db.execute("SELECT count(*) FROM contacts_person").fetchone()[0]
        assert people > 10
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_export_all_writes_every_record_as_json_lines_without_secrets(tmp_path, instance):
    import json

    instance("demo", tmp_path)
    out = tmp_path / "all.jsonl"
    result = run_accord(["export-all", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    types = {record["type"] for record in records}
    assert {"contacts.person", "sales.deal", "work.task", "accounts.user"} <= types
    users = [r for r in records if r["type"] == "accounts.user"]
    assert users and all("password" not in user for user in users)
    assert "accounts.apitoken" not in types and "sessions.session" not in types
    person = next(r for r in records if r["type"] == "contacts.person")
    assert person["id"] and person["full_name"]
