"""Phone and e-mail labels typed as free text become one of the choices (mobile, work,
home, other; work, personal, other), so each reader sees them in their own language."""

from django.db import migrations

WORDS = {
    "mobile": ["mobile", "cell", "cellphone", "mob", "моб", "мобильный", "сотовый", "נייד", "բջջային"],
    "work": ["work", "office", "business", "рабочий", "работа", "офис", "עבודה", "משרד", "աշխատանքային"],
    "home": ["home", "домашний", "дом", "בית", "տուն"],
    "personal": ["personal", "private", "личный", "личная", "אישי", "անձնական"],
}


def to_choices(apps, schema_editor):
    point = apps.get_model("contacts", "ContactPoint")
    allowed = {"phone": {"mobile", "work", "home", "other"}, "email": {"work", "personal", "other"}}
    known = {word: key for key, words in WORDS.items() for word in words}
    typed = point.objects.exclude(label="").values_list("label", flat=True).distinct()
    for label in list(typed):
        key = known.get(label.strip().lower().rstrip("."), "other")
        for kind, keys in allowed.items():
            chosen = key if key in keys else ("personal" if key == "home" else "other")
            chosen = chosen if chosen in keys else "other"
            if chosen != label:
                point.objects.filter(kind=kind, label=label).update(label=chosen)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0007_contactpoint_not_valid_number")]

    operations = [migrations.RunPython(to_choices, migrations.RunPython.noop)]
