"""`accord export --type people --format csv --out FILE`: every client a user sees, with
every field, written to a file (the same export as the list screen's)."""

import shutil
import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.accounts.models import User
from accord.core.errors import one_line
from accord.transfer import services


class Command(BaseCommand):
    help = "Export people or companies to a CSV or XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("--type", dest="record_type", default="people")
        parser.add_argument("--format", dest="fmt", default="csv")
        parser.add_argument("--out", required=True)
        parser.add_argument("--user", default="")

    def handle(self, *args, record_type, fmt, out, user, **options):
        users = User.objects.filter(is_active=True)
        actor = (
            users.filter(email__iexact=user).first()
            if user
            else users.filter(role__slug="administrator").first()
        )
        if actor is None:
            raise CommandError(f"no active user {user}" if user else "no administrator: --user")
        try:
            job = services.export_create(actor=actor, record_type=record_type, fmt=fmt, now=True)
        except ValidationError as error:
            raise CommandError(one_line(error)) from None
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        with job.file.open("rb") as source, open(out, "wb") as target:
            shutil.copyfileobj(source, target)
        sys.stdout.write(f"{job.rows_done} {record_type} written to {out}\n")
