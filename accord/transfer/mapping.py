"""Which column of a file goes to which field: the fields an import can fill, and a guess
from the header's words: Accord's own names, other CRMs' export titles, and the plain
words of English, Russian, Hebrew and Armenian."""

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accord.transfer.exporting import FIELDS


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

# Header words that name a field, normalised (see `normal`). Accord's own names come
# first: the API's field names (`first_name`, `phones` …) and, in every language, the
# titles of its import fields and its export's columns (`own_titles`). Then the column
# titles of the exports of the CRMs people move from — amoCRM (Kommo), Bitrix24, HubSpot,
# Pipedrive — in the languages those products have (English, Russian), and the plain
# words of a hand-made file in English, Russian, Hebrew and Armenian.
SYNONYMS = {
    "full_name": [
        "full name", "name", "contact", "contact name", "client", "customer", "client name",
        "customer name", "person", "person name", "display name",
        "фио", "ф и о", "полное имя", "полное имя контакта", "контакт", "клиент",
        "имя фамилия", "имя клиента", "контактное лицо",
        "שם מלא", "איש קשר", "לקוח", "שם הלקוח",
        "անուն ազգանուն", "լրիվ անուն", "հաճախորդ", "կոնտակտ",
    ],
    "first_name": ["first name", "firstname", "given name", "first", "имя", "שם פרטי",
                   "անուն"],
    "last_name": ["last name", "lastname", "surname", "family name", "last", "фамилия",
                  "שם משפחה", "ազգանուն"],
    "middle_name": ["middle name", "second name", "patronymic", "отчество", "հայրանուն"],
    "name": [
        "name", "company", "company name", "organization", "organisation", "organization name",
        "account name", "название", "наименование", "компания", "название компании",
        "организация", "наименование организации", "שם החברה", "חברה", "ארגון",
        "ընկերություն", "ընկերության անուն", "կազմակերպություն",
    ],
    "phone": [
        "phone", "phones", "telephone", "tel", "mobile", "cell", "mobile phone", "work phone",
        "home phone", "other phone", "phone number", "mobile phone number", "cell phone",
        "work direct phone", "direct phone", "office phone", "all phones",
        "телефон", "тел", "мобильный", "сотовый", "рабочий телефон", "номер телефона",
        "моб телефон", "мобильный телефон", "домашний телефон", "другой телефон",
        "рабочий прямой телефон", "телефоны", "все телефоны",
        "טלפון", "נייד", "טלפון נייד", "מספר טלפון", "טלפון בעבודה",
        "հեռախոս", "բջջային", "բջջային հեռախոս", "հեռախոսահամար",
    ],
    "email": [
        "email", "e mail", "emails", "mail", "email address", "work email", "private email",
        "personal email", "other email", "home email", "all e mails", "all emails",
        "почта", "эл почта", "электронная почта", "емейл", "имейл", "рабочий email",
        "рабочий e mail", "личный email", "частный e mail", "другой email", "другой e mail",
        "все e mail", "все адреса", "e mail для рассылок",
        "דוא ל", "דואל", "אימייל", "דואר אלקטרוני", "מייל",
        "էլ փոստ", "էլփոստ", "էլեկտրոնային փոստ", "իմեյլ",
    ],
    "company": [
        "company", "company name", "organization", "organisation", "organization name",
        "associated company", "employer", "account", "account name",
        "компания", "организация", "фирма", "место работы", "название компании",
        "חברה", "שם החברה", "ארגון", "ընկերություն", "կազմակերպություն",
    ],
    "kind": ["stage", "type", "status", "kind", "lifecycle stage", "стадия", "тип", "статус",
             "שלב", "סטטוס", "փուլ", "կարգավիճակ"],
    "owner": ["owner", "manager", "responsible", "account manager", "sales rep",
              "ответственный", "менеджер", "владелец", "אחראי", "בעלים", "պատասխանատու"],
    "city": ["city", "town", "город", "населенный пункт", "עיר", "יישוב", "քաղաք"],
    "country": ["country", "country region", "страна", "מדינה", "ארץ", "երկիր"],
    "address": ["address", "street", "street address", "postal address", "адрес", "улица",
                "כתובת", "רחוב", "հասցե"],
    "source": ["source", "lead source", "original source", "channel", "источник", "канал",
               "מקור", "ערוץ", "աղբյուր"],
    "tags": ["tags", "tag", "labels", "label", "groups", "теги", "тег", "метки", "группы",
             "תגיות", "תגית", "պիտակներ", "պիտակ"],
    "birthday": ["birthday", "birth date", "date of birth", "birthdate", "dob",
                 "дата рождения", "день рождения", "תאריך לידה", "יום הולדת",
                 "ծննդյան օր", "ծննդյան ամսաթիվ"],
    "gender": ["gender", "sex", "пол", "מין", "מגדר", "սեռ"],
    "website": ["website", "web site", "website url", "site", "url", "www", "web",
                "company domain name", "domain", "сайт", "веб сайт", "корпоративный сайт",
                "אתר", "אתר אינטרנט", "կայք"],
    "external_id": ["id", "external id", "record id", "code", "client id", "customer id",
                    "код", "внешний id", "номер клиента", "код клиента", "מזהה", "նույնացուցիչ"],
    "note": ["note", "notes", "comment", "comments", "description", "примечание",
             "примечания", "комментарий", "заметка", "описание", "הערה", "הערות",
             "նշում", "նշումներ", "մեկնաբանություն"],
}  # fmt: skip
# What the exports of other CRMs put before or after a field's title: Pipedrive's
# "Person - Phone - Work", amoCRM's "Мобильный телефон (контакт)", HubSpot's "Phone 2".
PREFIX = re.compile(
    r"^(?:person|organization|organisation|contact|company|контактное лицо|контакт"
    r"|организация|компания) "
)
SUFFIX = re.compile(
    r" (?:\d+|contact|company|контакт|компания|work|mobile|home|other|main|private"
    r"|personal|рабочий|мобильный|домашний|другой|личный)$"
)
# Accord's export column (exporting.FIELDS) -> the import field it fills.
EXPORT_TARGETS = {"name": "full_name", "phones": "phone", "emails": "email"}


def normal(header: str) -> str:
    """Lower case, ё as е, punctuation, underscores and repeated spaces gone:
    "E-mail:" -> "e mail", "first_name" -> "first name"."""
    text = header.strip().lower().replace("ё", "е").replace("_", " ")
    text = re.sub(r"[^\w]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@functools.cache
def own_titles(record_type: str) -> dict[str, str]:
    """{normalised title: field} of Accord's own import fields and export columns in each
    of its languages: a file exported from Accord (in any language) maps by itself."""

    kind = "person" if record_type == "people" else "company"
    names = {t.name for t in TARGETS[record_type]}
    titles: dict[str, str] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for target in TARGETS[record_type]:
                titles.setdefault(normal(str(target.label)), target.name)
            for key, label in FIELDS[kind]:
                field = EXPORT_TARGETS.get(key, key)
                field = "name" if field == "full_name" and kind == "company" else field
                if field in names:
                    titles.setdefault(normal(str(label)), field)
    return titles


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
    for name in targets:
        words.setdefault(normal(name), name)  # the API's own field names
    for title, name in own_titles(record_type).items():
        words.setdefault(title, name)
    for name, synonyms in SYNONYMS.items():
        if name in targets:
            for synonym in synonyms:
                words.setdefault(normal(synonym), name)
    found: dict[int, str] = {}
    taken: set[str] = set()
    for number, title in enumerate(header):
        field = lookup(words, normal(title))
        if field is None or (field in taken and not targets[field].many):
            continue
        found[number] = field
        taken.add(field)
    if "full_name" in taken and {"first_name", "last_name"} & taken:
        # "Name" beside "First name"/"Last name" columns is not a full name.
        found = {n: t for n, t in found.items() if t != "full_name"}
    return found


def lookup(words: dict[str, str], key: str) -> str | None:
    """The field a normalised title names: as it is, else without another CRM's prefix
    ("person …") and qualifiers ("… work", "… 2", "… контакт"), one at a time."""
    seen = set()
    while key and key not in seen:
        if key in words:
            return words[key]
        seen.add(key)
        key = SUFFIX.sub("", key) if SUFFIX.search(key) else PREFIX.sub("", key)
    return None
