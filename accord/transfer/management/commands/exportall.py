"""`accord export-all [PATH]`: every record as JSON Lines — one object per line, each
with its type, id and fields — a format another system can read. Secrets stay out:
password hashes, API token hashes, second-factor devices, sessions, and the sealed
secrets (`*_sealed`: mailbox passwords, of no use without this server's key anyway)."""

import json
import sys
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

LEFT_OUT_APPS = {"sessions", "axes", "otp_totp", "otp_static", "django_tasks_database",
                 "admin", "contenttypes", "auth"}  # fmt: skip
LEFT_OUT_MODELS = {"accounts.apitoken", "accounts.usersession"}
# Also the webhooks' own secrets: a PBX's or a messenger's address token, and the token
# Telegram and WhatsApp show back (whoever holds them could post deliveries).
SECRET_FIELDS = {"password", "hook_token", "webhook_secret"}


class Command(BaseCommand):
    help = "Write every record as JSON Lines."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default="-")

    def handle(self, *args, path: str, **options):
        if path == "-":
            self.write_all(sys.stdout)
            return
        with Path(path).open("w", encoding="utf-8") as stream:
            counts = self.write_all(stream)
        total = sum(counts.values())
        self.stderr.write(f"{total} records of {len(counts)} types written to {path}")

    def write_all(self, stream) -> dict[str, int]:
        counts: dict[str, int] = {}
        for model in apps.get_models():
            label = model._meta.label_lower
            if model._meta.app_label in LEFT_OUT_APPS or label in LEFT_OUT_MODELS:
                continue
            if not model._meta.managed or model._meta.proxy:
                continue  # no table of its own (a queue dashboard, a proxy)
            fields = [
                f
                for f in model._meta.concrete_fields
                if f.name not in SECRET_FIELDS and not f.name.endswith("_sealed")
            ]
            names = [f.attname for f in fields]
            for row in model.objects.order_by("pk").values(*names).iterator(chunk_size=2000):
                record = {"type": label, "id": row.pop(model._meta.pk.attname), **row}
                stream.write(json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False))
                stream.write("\n")
                counts[label] = counts.get(label, 0) + 1
        return counts
