"""`accord manage secrets_reseal`: after SECRET_KEY changed (the old one in
ACCORD_SECRET_KEY_FALLBACKS), seal every stored mailbox password with the new key, so the
old key can then be dropped."""

from django.core.management.base import BaseCommand, CommandError

from accord.comms.services import mailboxes_reseal
from accord.core.secrets import SecretUnreadable


class Command(BaseCommand):
    help = "Seal the stored mailbox passwords again with the current SECRET_KEY."

    def handle(self, *args, **options):
        try:
            count = mailboxes_reseal()
        except SecretUnreadable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Sealed the passwords of {count} mailbox(es) with the current key.")
