"""`accord createuser`: make a user, asking for what the options do not give."""

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.accounts.models import Role
from accord.accounts.services.users import user_create
from accord.core.errors import one_line


class Command(BaseCommand):
    help = "Create a user. Non-interactive with --email, --password and --role."

    def add_arguments(self, parser):
        parser.add_argument("--email")
        parser.add_argument("--password")
        parser.add_argument("--role")
        parser.add_argument("--full-name", dest="full_name", default="")

    def handle(self, *args, email, password, role, full_name, **options):
        missing = [name for name, value in (("email", email), ("password", password),
                                            ("role", role)) if not value]  # fmt: skip
        if missing and not sys.stdin.isatty():
            raise CommandError(
                "not interactive: give " + ", ".join(f"--{name}" for name in missing)
            )
        email = email or input("E-mail: ").strip()
        if not full_name and "email" in missing:
            full_name = input("Full name (optional): ").strip()
        if not role:
            slugs = list(Role.objects.values_list("slug", flat=True))
            role = input(f"Role ({', '.join(slugs)}): ").strip()
        if not password:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password again: ") != password:
                raise CommandError("the passwords do not match")
        try:
            user = user_create(email=email, password=password, role=role, full_name=full_name)
        except ValidationError as error:
            raise CommandError(one_line(error)) from None
        self.stdout.write(f"Created {user.email} ({user.role}).")
