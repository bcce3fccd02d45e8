"""`accord manage secrets_reseal`: after SECRET_KEY changed (the old one in
ACCORD_SECRET_KEY_FALLBACKS), seal every stored mailbox password, and every messenger's
and PBX's token, key and secret, with the new key, so the old key can then be dropped."""

from django.core.management.base import BaseCommand, CommandError

from accord.comms.services import mailboxes_reseal
from accord.comms.services.messengers import connections_reseal
from accord.core.secrets import SecretUnreadable


class Command(BaseCommand):
    help = "Seal the stored passwords, tokens and secrets again with the current SECRET_KEY."

    def handle(self, *args, **options):
        try:
            count = mailboxes_reseal()
            connections = connections_reseal()
        except SecretUnreadable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Sealed the passwords of {count} mailbox(es) with the current key.")
        self.stdout.write(
            f"Sealed the keys of {connections} messenger and telephony connection(s) too."
        )
