"""Backup and restore: one archive with a consistent snapshot of the database, the
uploaded files and a manifest (version, per-table row counts and checksums, each part's
SHA-256), made while Accord runs; restored into an empty instance and checked against
the manifest.

SQLite: the online backup API copies the committed database in one step (readers and
writers go on); the counts and checksums are read from the snapshot itself.
PostgreSQL: one repeatable-read transaction exports its snapshot, `pg_dump --snapshot`
dumps exactly that, and the counts and checksums are read in the same transaction.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection

FORMAT = 1
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


def default_path() -> Path:
    folder = backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = f"accord-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    path, n = folder / f"{stamp}.tar.gz", 1
    while path.exists():  # two within one second
        n += 1
        path = folder / f"{stamp}-{n}.tar.gz"
    return path


def backups_dir() -> Path:
    return Path(settings.DATA_DIR) / "backups"


def archives() -> list[Path]:
    """The backups Accord made under its data directory, newest first."""
    folder = backups_dir()
    if not folder.exists():
        return []
    found = folder.glob("accord-*.tar.gz")
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def table_figures(cursor, tables: dict[str, list[str]]) -> dict[str, dict]:
    """Per table: its row count and a SHA-256 of its rows in primary-key order, each
    value as text. `tables` maps a table to its key columns (`app_tables`)."""
    figures = {}
    quote = connection.ops.quote_name
    for table, keys in tables.items():
        digest, count = hashlib.sha256(), 0
        order = ", ".join(quote(k) for k in keys) or "1"
        cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")  # noqa: S608 (names from the schema)
        while rows := cursor.fetchmany(5000):
            for row in rows:
                digest.update(repr(tuple(_plain(v) for v in row)).encode())
                count += 1
        figures[table] = {"rows": count, "sha256": digest.hexdigest()}
    return figures


def _plain(value):
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    return str(value) if value is not None else None


def app_tables() -> dict[str, list[str]]:
    """The tables Django knows, each with its primary-key columns (SQLite's search
    index is made from them and not compared)."""
    names = set(connection.introspection.django_table_names(include_views=False))
    names = (names | {"django_migrations"}) & set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        return {
            name: connection.introspection.get_primary_key_columns(cursor, name) or []
            for name in sorted(names)
        }


def sqlite_figures(path: Path, tables: dict[str, list[str]]) -> dict[str, dict]:
    """The figures read straight from an SQLite file (values as SQLite stores them, the
    same for the snapshot and for the restored database)."""

    database = sqlite3.connect(path)
    try:
        return table_figures(database.cursor(), tables)
    finally:
        database.close()


def make_backup(path: Path | None = None) -> tuple[Path, dict]:
    """Write the archive; answers its path and its manifest."""
    path = Path(path) if path else default_path()
    if path.exists():
        raise BackupError(f"{path} exists already: choose another name")
    if not path.parent.is_dir():  # said before the snapshot, not after it
        raise BackupError(f"{path.parent} is not a folder: create it or choose another path")
    with tempfile.TemporaryDirectory(dir=path.parent if path.parent.exists() else None) as tmp:
        work = Path(tmp)
        if connection.vendor == "sqlite":
            database, figures = _sqlite_snapshot(work)
        else:
            database, figures = _postgres_snapshot(work)
        files = _copy_files(work / "files")
        manifest = {
            "format": FORMAT,
            "accord": _version(),
            "made_at": datetime.now(UTC).isoformat(),
            "engine": connection.vendor,
            "database": {"file": database.name, "sha256": sha256(database)},
            "tables": figures,
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=1) as archive:
            archive.add(work / MANIFEST, arcname=MANIFEST)
            archive.add(database, arcname=database.name)
            if (work / "files").exists():
                archive.add(work / "files", arcname="files")
        partial.rename(path)  # a backup is either whole or absent
    return path, manifest


def _version() -> str:
    try:
        return version("accord")
    except PackageNotFoundError:
        return "dev"


def _sqlite_snapshot(work: Path) -> tuple[Path, dict]:
    """SQLite's online backup API, in one step from a connection of its own: a snapshot
    of what is committed, while the app goes on reading and writing (WAL)."""

    target = work / "database.sqlite3"
    tables = app_tables()
    source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target, sqlite_figures(target, tables)


def _postgres_snapshot(work: Path) -> tuple[Path, dict]:
    """On a connection of its own (Django's may be inside a transaction already): one
    repeatable-read transaction whose snapshot pg_dump shares."""

    target = work / "database.dump"
    tables = app_tables()
    with pg_connect() as snapshot:
        snapshot.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snapshot.read_only = True
        with snapshot.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            exported = cursor.fetchone()[0]
            run_pg("pg_dump", "--format=custom", f"--snapshot={exported}", f"--file={target}")
            figures = table_figures(cursor, tables)
        snapshot.rollback()
    return target, figures


def pg_connect():
    """A plain psycopg connection to Accord's database (Django's adapters left out, so
    the figures read the same values before the backup and after the restore)."""

    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
    )


def run_pg(program: str, *args: str) -> None:
    """pg_dump or pg_restore against Accord's own database, its password in the
    environment (never on the command line)."""
    if shutil.which(program) is None:
        raise BackupError(f"{program} is missing: install the PostgreSQL client tools")
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = [
        program,
        f"--host={db.get('HOST') or '127.0.0.1'}",
        f"--port={db.get('PORT') or 5432}",
        f"--username={db.get('USER') or 'postgres'}",
        f"--dbname={db['NAME']}",
        *args,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()[:500]}")


def _copy_files(target: Path) -> list[dict]:
    source = Path(settings.MEDIA_ROOT)
    listed = []
    if not source.exists():
        return listed
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if relative.parts[0] in ("exports",):  # made again on demand; not the company's data
            continue
        copy = target / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        listed.append({"path": str(relative), "size": path.stat().st_size, "sha256": sha256(copy)})
    return listed


def restore(path: Path) -> dict:
    """Restore an archive into this instance, which must be empty (no tables yet);
    answers the manifest after checking every part and every table against it."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    if connection.introspection.table_names():
        raise BackupError("this instance's database is not empty: restore into a new one")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(path, "r:gz") as archive:
                archive.extractall(work, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BackupError(f"{path.name} is not an Accord backup: {error}") from None
        try:
            manifest = json.loads((work / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BackupError(f"{path.name} has no readable manifest") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"backup format {manifest.get('format')} is not {FORMAT}")
        if manifest["engine"] != connection.vendor:
            raise BackupError(
                f"the backup is of {manifest['engine']}; this instance runs {connection.vendor}"
            )
        database = work / manifest["database"]["file"]
        if not database.exists() or sha256(database) != manifest["database"]["sha256"]:
            raise BackupError("the database in the backup is damaged (its checksum differs)")
        for entry in manifest["files"]:
            copy = work / "files" / entry["path"]
            if not copy.exists() or sha256(copy) != entry["sha256"]:
                raise BackupError(f"the file {entry['path']} in the backup is damaged")
        if connection.vendor == "sqlite":
            _restore_sqlite(database)
        else:
            jobs = f"--jobs={min(4, os.cpu_count() or 1)}"  # tables and indexes side by side
            run_pg("pg_restore", "--no-owner", "--exit-on-error", jobs, str(database))
        if (work / "files").exists():
            shutil.copytree(work / "files", settings.MEDIA_ROOT, dirs_exist_ok=True)
    tables = {t: k for t, k in app_tables().items() if t in manifest["tables"]}
    if connection.vendor == "sqlite":
        found = sqlite_figures(Path(settings.DATABASES["default"]["NAME"]), tables)
    else:
        with pg_connect() as database, database.cursor() as cursor:
            found = table_figures(cursor, tables)
    differ = [t for t, f in manifest["tables"].items() if found.get(t) != f]
    if differ:
        raise BackupError(f"restored, but these tables differ from the backup: {differ}")
    return manifest


def _restore_sqlite(database: Path) -> None:
    target = Path(settings.DATABASES["default"]["NAME"])
    connection.close()
    source = sqlite3.connect(database)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # the online backup API, page by page
    finally:
        source.close()
        destination.close()
