"""PostgreSQL keeps a tenth of each page of people and companies free, so that writing a
client's last contact (each call, message or e-mail does) updates the row in place
(a "HOT" update) instead of writing a new entry in each of the table's 17 indexes.
SQLite has no such setting: nothing to do there."""

from django.db import migrations

TABLES = ("contacts_person", "contacts_company")
FILLFACTOR = 90


def room(fillfactor: int):
    def change(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in TABLES:
            schema_editor.execute(
                f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {fillfactor})"
            )

    return change


class Migration(migrations.Migration):
    dependencies = [("contacts", "0009_person_language")]

    operations = [migrations.RunPython(room(FILLFACTOR), room(100))]
