"""The sent folder of a mailbox is fetched too: where it is (its name, UIDVALIDITY and last
UID), and the folder of each copy of a fetched message (the ones fetched so far lie in
their mailbox's receiving folder)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copies_in_their_folder(apps, schema_editor):
    Mailbox = apps.get_model("comms", "Mailbox")
    MessageCopy = apps.get_model("comms", "MessageCopy")
    folder = Mailbox.objects.filter(pk=OuterRef("mailbox_id")).values("imap_folder")[:1]
    MessageCopy.objects.exclude(mailbox__imap_folder="INBOX").update(folder=Subquery(folder))


class Migration(migrations.Migration):
    dependencies = [
        ("comms", "0005_tracking"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="messagecopy",
            name="message_copy_unique",
        ),
        migrations.AddField(
            model_name="mailbox",
            name="sent_folder",
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="sent_last_uid",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="sent_uidvalidity",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="messagecopy",
            name="folder",
            field=models.CharField(default="INBOX", max_length=255),
        ),
        migrations.RunPython(copies_in_their_folder, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="messagecopy",
            constraint=models.UniqueConstraint(
                fields=("mailbox", "folder", "uidvalidity", "uid"), name="message_copy_unique"
            ),
        ),
    ]
