"""The roles Accord ships with; `accord createuser --role SLUG` uses these slugs."""

from django.db import migrations

SHIPPED_ROLES = [
    ("administrator", "Administrator", True),
    ("head-of-sales", "Head of sales", False),
    ("manager", "Manager", False),
    ("marketing", "Marketing", False),
    ("support", "Support", False),
    ("read-only", "Read-only", False),
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for position, (slug, name, is_admin) in enumerate(SHIPPED_ROLES):
        Role.objects.get_or_create(
            slug=slug, defaults={"name": name, "is_admin": is_admin, "position": position}
        )


def remove_roles(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    Role.objects.filter(slug__in=[slug for slug, _name, _admin in SHIPPED_ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_roles, remove_roles)]
