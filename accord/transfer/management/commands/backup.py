"""`accord backup [PATH]`: a consistent snapshot of the database and the uploaded files,
with a manifest, in one archive; Accord may go on running meanwhile."""

import sys

from django.core.management.base import BaseCommand, CommandError

from accord.transfer.backup import BackupError, make_backup


class Command(BaseCommand):
    help = "Back up the database and the uploaded files into one archive."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default="")

    def handle(self, *args, path: str, **options):
        try:
            written, manifest = make_backup(path or None)
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(table["rows"] for table in manifest["tables"].values())
        sys.stdout.write(
            f"{written}: {len(manifest['tables'])} tables, {rows} rows, "
            f"{len(manifest['files'])} files\n"
        )
