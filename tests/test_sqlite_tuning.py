"""SQLite is tuned for a web app: WAL, foreign keys, a busy timeout, IMMEDIATE writes."""

from django.db.backends.sqlite3.base import DatabaseWrapper

from accord.config import read_database_url

DJANGO_DEFAULTS = {
    "TIME_ZONE": None,
    "CONN_MAX_AGE": 0,
    "CONN_HEALTH_CHECKS": False,
    "AUTOCOMMIT": True,
    "ATOMIC_REQUESTS": False,
    "TEST": {},
}


def read_pragmas(connection, names):
    with connection.cursor() as cursor:
        values = {}
        for name in names:
            cursor.execute(f"PRAGMA {name}")
            values[name] = cursor.fetchone()[0]
        return values


def test_a_sqlite_database_opens_in_wal_mode_with_foreign_keys_and_a_busy_timeout(
    tmp_path, monkeypatch, django_db_blocker
):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings_dict = {**DJANGO_DEFAULTS, **read_database_url(tmp_path)}
    assert settings_dict["NAME"] == str(tmp_path / "accord.sqlite3")

    connection = DatabaseWrapper(settings_dict)
    with django_db_blocker.unblock():
        try:
            pragmas = read_pragmas(
                connection, ["journal_mode", "foreign_keys", "busy_timeout", "synchronous"]
            )
        finally:
            connection.close()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 20000,
        "synchronous": 1,  # NORMAL: safe with WAL, far fewer fsyncs
    }
    assert connection.transaction_mode == "IMMEDIATE"
