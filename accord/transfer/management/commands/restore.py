"""`accord restore PATH`: restore a backup into an empty instance and check every table
against the backup's manifest."""

import sys

from django.core.management.base import BaseCommand, CommandError

from accord.transfer.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup into an empty instance."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path: str, **options):
        try:
            manifest = restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        rows = sum(table["rows"] for table in manifest["tables"].values())
        sys.stdout.write(
            f"restored {len(manifest['tables'])} tables ({rows} rows, each as in the backup) "
            f"and {len(manifest['files'])} files, made {manifest['made_at']}\n"
        )
