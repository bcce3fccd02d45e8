"""`accord blueprint list` and `accord blueprint install NAME [--user EMAIL]`: the
ready-made rule sets, installed switched off for an administrator to look at."""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accord.accounts.models import User
from accord.automation.blueprints import BLUEPRINTS, install
from accord.automation.templates import language_of
from accord.core.errors import message_of


class Command(BaseCommand):
    help = "List or install automation blueprints."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "install"])
        parser.add_argument("name", nargs="?", default="")
        parser.add_argument("--user", default="", help="whose rules (default: an administrator)")

    def handle(self, *args, action: str, name: str, user: str, **options):
        if action == "list":
            for blueprint in BLUEPRINTS.values():
                sys.stdout.write(
                    f"{blueprint.name:<18} {blueprint.label}: {blueprint.description}\n"
                )
            return
        actor = self.actor(user)
        try:  # its names and texts in the installer's language (the others as variants)
            with translation.override(language_of(actor)):
                rules = install(actor=actor, name=name)
        except ValidationError as error:
            raise CommandError(message_of(error)) from None
        for rule in rules:
            sys.stdout.write(f"installed (off): {rule.name}\n")
        sys.stdout.write("Look at them in Settings → Automation and turn them on.\n")

    def actor(self, email: str):
        people = User.objects.filter(is_active=True, role__can_manage_automation=True)
        found = (
            people.filter(email__iexact=email).first() if email else people.order_by("pk").first()
        )
        if found is None:
            raise CommandError(
                f"no active user {email} may manage automation"
                if email
                else "no active user may manage automation: create an administrator first"
            )
        return found
