"""PostgreSQL is tuned for a web app: no JIT compilation of a page's short queries."""

from django.db.backends.postgresql.base import DatabaseWrapper

from accord.config import read_database_url
from tests.test_sqlite_tuning import DJANGO_DEFAULTS


def test_a_postgresql_connection_does_not_compile_queries_just_in_time(
    tmp_path, monkeypatch, django_db_blocker
):
    # The server every machine of ours has; its own "postgres" database, only read.
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    settings_dict = {**DJANGO_DEFAULTS, **read_database_url(tmp_path)}
    connection = DatabaseWrapper(settings_dict)
    with django_db_blocker.unblock():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW jit")
                assert cursor.fetchone()[0] == "off"
        finally:
            connection.close()


def test_the_address_can_still_set_its_own_options(tmp_path, monkeypatch):
    url = "postgres://postgres@127.0.0.1:5432/postgres?options=-c%20work_mem%3D64MB"
    monkeypatch.setenv("DATABASE_URL", url)
    assert read_database_url(tmp_path)["OPTIONS"]["options"] == "-c work_mem=64MB"
