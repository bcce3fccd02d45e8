"""Which column of a file goes to which field: the fields an import can fill, and a guess
from the header's words in English and Russian."""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Target:
    name: str  # the field, or "cf.<key>" for a custom field
    label: str
    many: bool = False  # several columns may feed it (phones, e-mails, tags)


PEOPLE = [
    Target("full_name", _("Full name")),
    Target("first_name", _("First name")),
    Target("last_name", _("Last name")),
    Target("middle_name", _("Middle name")),
    Target("phone", _("Phone"), many=True),
    Target("email", _("E-mail"), many=True),
    Target("company", _("Company")),
    Target("kind", _("Stage")),
    Target("owner", _("Owner (e-mail)")),
    Target("city", _("City")),
    Target("country", _("Country")),
    Target("address", _("Address")),
    Target("source", _("Source")),
    Target("tags", _("Tags"), many=True),
    Target("birthday", _("Birthday")),
    Target("gender", _("Gender")),
    Target("external_id", _("External id")),
    Target("note", _("Note")),
]
COMPANIES = [
    Target("name", _("Name")),
    Target("phone", _("Phone"), many=True),
    Target("email", _("E-mail"), many=True),
    Target("website", _("Website")),
    Target("kind", _("Kind")),
    Target("owner", _("Owner (e-mail)")),
    Target("city", _("City")),
    Target("country", _("Country")),
    Target("address", _("Address")),
    Target("source", _("Source")),
    Target("tags", _("Tags"), many=True),
    Target("external_id", _("External id")),
    Target("note", _("Note")),
]
TARGETS = {"people": PEOPLE, "companies": COMPANIES}

# Header words that name a field, normalised (see `normal`): English and Russian.
SYNONYMS = {
    "full_name": ["full name", "name", "contact", "contact name", "client", "customer", "фио",
                  "ф и о", "полное имя", "контакт", "клиент", "имя фамилия"],
    "first_name": ["first name", "firstname", "given name", "first", "имя"],
    "last_name": ["last name", "lastname", "surname", "family name", "last", "фамилия"],
    "middle_name": ["middle name", "patronymic", "отчество"],
    "name": ["name", "company", "company name", "organization", "organisation", "название",
             "наименование", "компания", "организация"],
    "phone": ["phone", "phones", "telephone", "tel", "mobile", "cell", "mobile phone",
              "work phone", "home phone", "phone number", "телефон", "тел", "мобильный",
              "сотовый", "рабочий телефон", "номер телефона", "моб телефон", "мобильный телефон",
              "all phones", "все телефоны"],
    "email": ["email", "e mail", "emails", "mail", "email address", "почта", "эл почта",
              "электронная почта", "емейл", "имейл", "all e mails", "all emails",
              "все e mail", "все адреса"],
    "company": ["company", "company name", "organization", "organisation", "employer",
                "компания", "организация", "фирма", "место работы"],
    "kind": ["stage", "type", "status", "kind", "lifecycle stage", "стадия", "тип", "статус"],
    "owner": ["owner", "manager", "responsible", "account manager", "sales rep",
              "ответственный", "менеджер", "владелец"],
    "city": ["city", "town", "город", "населенный пункт"],
    "country": ["country", "страна"],
    "address": ["address", "street", "street address", "адрес", "улица"],
    "source": ["source", "lead source", "channel", "источник", "канал"],
    "tags": ["tags", "tag", "labels", "label", "groups", "теги", "тег", "метки", "группы"],
    "birthday": ["birthday", "birth date", "date of birth", "dob", "дата рождения",
                 "день рождения"],
    "gender": ["gender", "sex", "пол"],
    "website": ["website", "web site", "site", "url", "www", "сайт", "веб сайт"],
    "external_id": ["id", "external id", "code", "client id", "customer id", "код",
                    "внешний id", "номер клиента", "код клиента"],
    "note": ["note", "notes", "comment", "comments", "description", "примечание",
             "комментарий", "заметка", "описание"],
}  # fmt: skip


def normal(header: str) -> str:
    """Lower case, ё as е, punctuation and repeated spaces gone: "E-mail:" -> "e mail"."""
    text = header.strip().lower().replace("ё", "е")
    text = re.sub(r"[^\w]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def targets_for(record_type: str, custom_fields=()) -> list[Target]:
    """What a column may be mapped to: the record's fields and its active custom fields."""
    return TARGETS[record_type] + [
        Target(f"cf.{f.key}", f.label, many=f.kind == "multi_choice") for f in custom_fields
    ]


def guess(header: list[str], record_type: str, custom_fields=()) -> dict[int, str]:
    """{column number: target} from the header; each single-valued target is given to the
    first column that names it, several columns may feed phones, e-mails and tags."""
    targets = {t.name: t for t in targets_for(record_type, custom_fields)}
    words: dict[str, str] = {}
    for target in targets.values():
        if target.name.startswith("cf."):
            words.setdefault(normal(str(target.label)), target.name)
            words.setdefault(normal(target.name[3:]), target.name)
    for name, synonyms in SYNONYMS.items():
        if name in targets:
            for synonym in synonyms:
                words.setdefault(normal(synonym), name)
    for name in targets:
        words.setdefault(normal(str(targets[name].label)), name)
    found: dict[int, str] = {}
    taken: set[str] = set()
    for number, title in enumerate(header):
        key = normal(title)
        name = words.get(key) or words.get(re.sub(r"\s*\d+$", "", key))  # "Phone 2"
        if name is None or (name in taken and not targets[name].many):
            continue
        found[number] = name
        taken.add(name)
    if "full_name" in taken and {"first_name", "last_name"} & taken:
        # "Name" beside "First name"/"Last name" columns is not a full name.
        found = {n: t for n, t in found.items() if t != "full_name"}
    return found
