"""`accord token create|list|revoke`: personal API tokens from the command line."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accord.accounts.models import User
from accord.accounts.queries import tokens_of
from accord.accounts.services.tokens import token_create, token_revoke
from accord.core.errors import one_line


class Command(BaseCommand):
    help = "Create, list or revoke a user's API tokens."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("--user", required=True, help="the user's e-mail")
        parser.add_argument("--name", default="", help="what the token is for (create)")
        parser.add_argument("--token-id", dest="token_id", type=int, help="token id (revoke)")

    def handle(self, *args, action, user, name, token_id, **options):
        owner = User.objects.filter(email__iexact=user.strip()).first()
        if owner is None:
            raise CommandError(f"no user with the e-mail {user}")
        if action == "create":
            try:
                _token, key = token_create(user=owner, name=name)
            except ValidationError as error:
                raise CommandError(one_line(error)) from None
            # The only place the secret is ever shown; stdout stays a bare token for scripts.
            self.stdout.write(key)
        elif action == "list":
            for token in tokens_of(owner):
                state = "revoked" if token.revoked_at else "active"
                used = token.last_used_at.isoformat() if token.last_used_at else "never used"
                self.stdout.write(f"{token.pk}\t{token.name}\t{token.hint}…\t{state}\t{used}")
        else:
            token = tokens_of(owner).filter(pk=token_id).first()
            if token is None:
                raise CommandError(f"{owner.email} has no token with id {token_id}")
            token_revoke(token=token)
            self.stdout.write(f"Revoked token {token.pk} ({token.name}).")
