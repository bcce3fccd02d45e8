"""Mailbox passwords: sealed with a key derived from SECRET_KEY, opened with an older key
kept for rotation, and never readable in a page, an API answer or a backup."""

import subprocess
import tarfile

import pytest
from django.core.management import call_command

from accord.comms.models import Mailbox
from accord.comms.services import mailbox_save, mailboxes_reseal
from accord.comms.services.calls import telephony_save
from accord.comms.services.messengers import messenger_save
from accord.core.secrets import SecretUnreadable, seal, unseal
from accord.transfer.backup import make_backup
from tests.comms.conftest import MAILBOX_PASSWORD, make_mailbox

OLD_KEY = "an-old-secret-key-" + "x" * 40


def test_a_sealed_secret_opens_with_the_key_and_its_fallbacks_only(settings):
    sealed = seal("hunter2-but-longer")
    assert "hunter2" not in sealed and unseal(sealed) == "hunter2-but-longer"
    assert seal("") == "" and unseal("") == ""
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "y" * 40
    assert unseal(sealed) == "hunter2-but-longer"  # the old key is still accepted
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SecretUnreadable):
        unseal(sealed)


def test_changing_the_secret_key_keeps_the_passwords_through_the_fallback(admin, sink, settings):
    settings.SECRET_KEY = OLD_KEY
    mailbox = make_mailbox(admin, sink.port, smtp_password=MAILBOX_PASSWORD)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-key-" + "z" * 50, [OLD_KEY]
    assert mailboxes_reseal() == 1
    settings.SECRET_KEY_FALLBACKS = []  # the old key can go now
    mailbox.refresh_from_db()
    assert unseal(mailbox.smtp_password_sealed) == MAILBOX_PASSWORD


def test_a_blank_password_keeps_the_stored_one_and_an_empty_one_forgets_it(admin, sink):
    mailbox = make_mailbox(admin, sink.port, smtp_password=MAILBOX_PASSWORD)
    kept = mailbox_save(actor=admin, mailbox=mailbox, data={"name": "Sales team",
                                                           "smtp_password": None})  # fmt: skip
    assert unseal(kept.smtp_password_sealed) == MAILBOX_PASSWORD and kept.name == "Sales team"
    forgotten = mailbox_save(actor=admin, mailbox=kept, data={"smtp_password": ""})
    assert forgotten.smtp_password_sealed == ""


def test_the_password_is_never_shown_again(admin, admin_client, api, sink):
    mailbox = make_mailbox(
        admin, sink.port, smtp_password=MAILBOX_PASSWORD, imap_host="127.0.0.1",
        imap_password="imap-" + MAILBOX_PASSWORD,
    )  # fmt: skip
    page = admin_client.get(f"/settings/email/{mailbox.pk}/").content.decode()
    assert "A password is stored." in page and MAILBOX_PASSWORD not in page
    assert mailbox.smtp_password_sealed not in page
    from accord.api.api import api as _ninja  # noqa: F401 (the routers are assembled)

    answer = admin_client.get(f"/api/v1/mailboxes/{mailbox.pk}")
    body = answer.content.decode()
    assert answer.json()["smtp_password_set"] is True and MAILBOX_PASSWORD not in body
    assert "sealed" not in body and mailbox.smtp_password_sealed not in body


@pytest.mark.django_db(transaction=True)
def test_a_backup_carries_the_sealed_password_but_never_a_readable_one(
    admin, smtp_factory, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "files"
    sink = smtp_factory()
    mailbox = make_mailbox(admin, sink.port, smtp_password=MAILBOX_PASSWORD)
    path, _manifest = make_backup(tmp_path / "backup.tar.gz")
    everything = b""
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            if member.isfile():
                everything += archive.extractfile(member).read()
        if "database.dump" in archive.getnames():  # PostgreSQL's custom format is compressed
            archive.extract("database.dump", tmp_path, filter="data")
            everything += subprocess.run(
                ["pg_restore", "--data-only", "--file=-", str(tmp_path / "database.dump")],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
    assert MAILBOX_PASSWORD.encode() not in everything
    assert Mailbox.objects.get(pk=mailbox.pk).smtp_password_sealed.encode() in everything


def test_the_export_of_everything_leaves_the_mailbox_passwords_out(admin, sink):
    import io

    from accord.transfer.management.commands.exportall import Command

    mailbox = make_mailbox(admin, sink.port, smtp_password=MAILBOX_PASSWORD)
    stream = io.StringIO()
    Command().write_all(stream)
    exported = stream.getvalue()
    assert '"type": "comms.mailbox"' in exported and "sales@window-shop.example" in exported
    assert MAILBOX_PASSWORD not in exported and mailbox.smtp_password_sealed not in exported
    assert "_sealed" not in exported


def test_the_reseal_command_says_how_many(admin, sink, capsys):
    make_mailbox(admin, sink.port, smtp_password=MAILBOX_PASSWORD)
    call_command("secrets_reseal")
    assert "of 1 mailbox(es)" in capsys.readouterr().out


def test_a_new_secret_key_keeps_the_bots_and_pbxs_secrets_after_the_reseal(admin, settings):
    settings.SECRET_KEY = OLD_KEY
    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": "123:bot-token"})  # fmt: skip
    pbx = telephony_save(actor=admin, data={"name": "PBX", "secret": "pbx-secret"})
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-key-" + "z" * 50, [OLD_KEY]
    call_command("secrets_reseal")
    settings.SECRET_KEY_FALLBACKS = []
    bot.refresh_from_db()
    pbx.refresh_from_db()
    assert unseal(bot.token_sealed) == "123:bot-token" and unseal(pbx.secret_sealed) == "pbx-secret"


def test_the_export_of_everything_leaves_the_webhooks_secrets_out(admin):
    import io

    from accord.transfer.management.commands.exportall import Command

    bot = messenger_save(actor=admin, data={"name": "Bot", "provider": "telegram",
                                            "token": "123:bot-token"})  # fmt: skip
    stream = io.StringIO()
    Command().write_all(stream)
    exported = stream.getvalue()
    assert '"type": "comms.messenger"' in exported and "Bot" in exported
    assert bot.hook_token not in exported and bot.webhook_secret not in exported
    assert "123:bot-token" not in exported
