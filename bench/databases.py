"""The bench's own databases: an SQLite file under var/bench/, or accord_bench on PostgreSQL
(BENCH_PG_NAME names another, so two checkouts can run benches on one server)."""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "var" / "bench"
SQLITE_FILE = DATA_DIR / "accord-bench.sqlite3"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/")
PG_NAME = os.environ.get("BENCH_PG_NAME", "accord_bench")
ENGINES = ("sqlite", "postgresql")


def database_url(engine: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{SQLITE_FILE}"
    parts = urlsplit(PG_SERVER)
    return urlunsplit((parts.scheme, parts.netloc, f"/{PG_NAME}", "", ""))


def environment(engine: str) -> dict[str, str]:
    """Accord's settings for the bench: its database, data dir, phone region, test host."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "SECRET_KEY"}}
    env.update(
        DJANGO_SETTINGS_MODULE="accord.settings",
        DATABASE_URL=database_url(engine),
        ACCORD_DATA_DIR=str(DATA_DIR),
        ACCORD_PHONE_REGION="RU",
        ALLOWED_HOSTS="testserver",  # the Django test client's host name
        DEBUG="false",
        ACCORD_LOG_LEVEL="ERROR",
        PYTHONPATH=str(ROOT),
    )
    return env


def _pg_admin():
    import psycopg

    parts = urlsplit(PG_SERVER)
    return psycopg.connect(
        urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")), autocommit=True
    )


def create(engine: str) -> None:
    """A new, empty database (an old bench database is dropped first)."""
    drop(engine)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if engine == "postgresql":
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{PG_NAME}"')


def drop(engine: str) -> None:
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
        return
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def remove_data_dir() -> None:
    """var/bench/ (collected static files, the secret key) once no database is kept."""
    shutil.rmtree(DATA_DIR, ignore_errors=True)


def size_mb(engine: str) -> float:
    if engine == "sqlite":
        return (
            sum(
                Path(f"{SQLITE_FILE}{s}").stat().st_size
                for s in ("", "-wal")
                if Path(f"{SQLITE_FILE}{s}").exists()
            )
            / 2**20
        )
    with _pg_admin() as admin:
        row = admin.execute("SELECT pg_database_size(%s)", [PG_NAME]).fetchone()
    return row[0] / 2**20


def run_inside(module: str, options: list[str], engines: str, keep: bool) -> int:
    """Run `python -m module --inside options` once per engine, each on a new database of
    its own (dropped after unless `keep`); 1 when any run failed."""
    import subprocess
    import sys

    failed = False
    for engine in [e.strip() for e in engines.split(",") if e.strip()]:
        create(engine)
        try:
            command = [sys.executable, "-m", module, "--inside", *options]
            failed |= subprocess.run(command, env=environment(engine)).returncode != 0  # noqa: S603
        finally:
            if not keep:
                drop(engine)
    return 1 if failed else 0
