"""SQLite's search table gets a `kind` column: a search for companies matches only the
companies' entries instead of ranking every person's too (a three-letter prefix at a
million people ranked 12,480 people's entries to find the companies)."""

from django.db import migrations

KIND_CASE = "CASE rowid % 8 WHEN 0 THEN 'person' WHEN 1 THEN 'company' ELSE 'deal' END"


def add_kind(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIRTUAL TABLE search_fts_new USING fts5("
            "kind, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
        )
        cursor.execute(
            f"INSERT INTO search_fts_new(rowid, kind, body) "
            f"SELECT rowid, {KIND_CASE}, body FROM search_fts"
        )
        cursor.execute("DROP TABLE search_fts")
        cursor.execute("ALTER TABLE search_fts_new RENAME TO search_fts")


def remove_kind(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE VIRTUAL TABLE search_fts_old USING fts5("
            "body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
        )
        cursor.execute("INSERT INTO search_fts_old(rowid, body) SELECT rowid, body FROM search_fts")
        cursor.execute("DROP TABLE search_fts")
        cursor.execute("ALTER TABLE search_fts_old RENAME TO search_fts")


class Migration(migrations.Migration):
    dependencies = [("core", "0002_search_and_custom_fields")]
    operations = [migrations.RunPython(add_kind, remove_kind)]
