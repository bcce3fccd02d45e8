"""Column guesses: a file whose header uses Accord's own API field names, Accord's own
export titles (in any of its languages), or the export titles of amoCRM, Bitrix24,
HubSpot and Pipedrive maps itself, so the user only checks the guess."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from accord.accounts.models import User
from accord.contacts.models import Person
from accord.transfer import services
from accord.transfer.exporting import FIELDS
from accord.transfer.mapping import guess


def mapped(header: list[str], record_type: str = "people") -> dict[str, str]:
    """{column title: field} of the guess."""
    return {header[n]: target for n, target in guess(header, record_type).items()}


def test_a_file_with_accords_api_field_names_imports_without_any_mapping(admin, owner):
    header = ["first_name", "last_name", "middle_name", "phone", "email", "company", "owner",
              "tags", "source", "birthday", "city", "country", "gender",
              "external_id"]  # fmt: skip
    row = ["Anna", "Petrova", "Ivanovna", "8 (912) 345-67-89", "anna@example.com", "Okna",
           owner.email, "vip, web", "fair", "1990-05-17", "Moscow", "RU", "female",
           "A-1"]  # fmt: skip
    text = io.StringIO()
    csv.writer(text).writerows([header, row])
    data = SimpleUploadedFile("api.csv", text.getvalue().encode())
    job = services.import_upload(actor=admin, upload=data, record_type="people")
    assert {job.header[int(n)]: t for n, t in job.mapping.items()} == {
        name: name for name in header
    }
    services.import_configure(
        actor=admin, job=job, mapping=job.mapping, match_by="email", on_duplicate="skip"
    )  # the setup the screen would send unchanged: no "Choose the column that holds the name"
    services.import_start(actor=admin, job=job)
    services.import_run(job.pk)
    anna = Person.objects.get()
    assert (anna.full_name, anna.primary_phone, anna.primary_email, anna.owner) == (
        "Anna Ivanovna Petrova", "+79123456789", "anna@example.com", owner)  # fmt: skip
    assert (anna.company.name, anna.birthday.isoformat(), anna.external_id) == (
        "Okna", "1990-05-17", "A-1")  # fmt: skip
    assert sorted(anna.tags.values_list("name", flat=True)) == ["vip", "web"]


@pytest.mark.parametrize("language", ["en", "ru", "he", "hy"])
@pytest.mark.parametrize(("kind", "record_type"), [("person", "people"), ("company", "companies")])
def test_accords_own_export_maps_back_in_every_language(language, kind, record_type):
    with translation.override(language):
        header = [str(label) for _key, label in FIELDS[kind]]
    expected = {
        "person": {"first_name", "last_name", "middle_name", "phone", "email", "company",
                   "kind", "owner", "city", "country", "address", "source", "tags",
                   "birthday", "gender", "external_id"},
        "company": {"name", "phone", "email", "website", "kind", "owner", "city", "country",
                    "address", "source", "tags", "external_id"},
    }[kind]  # fmt: skip
    found = guess(header, record_type)
    assert set(found.values()) == expected
    by_key = {FIELDS[kind][n][0]: target for n, target in found.items()}
    assert by_key["phones"] == "phone" and by_key["emails"] == "email"
    assert by_key["owner"] == "owner" and by_key["external_id"] == "external_id"


def test_an_amocrm_contacts_export_is_guessed_in_russian_and_english():
    russian = ["ID", "Полное имя контакта", "Имя", "Фамилия", "Компания", "Ответственный",
               "Мобильный телефон (контакт)", "Рабочий телефон (контакт)",
               "Рабочий email (контакт)", "Личный email (контакт)", "Теги", "Примечание",
               "Должность (контакт)", "Дата создания"]  # fmt: skip
    assert mapped(russian) == {
        "ID": "external_id", "Имя": "first_name", "Фамилия": "last_name",
        "Компания": "company", "Ответственный": "owner",
        "Мобильный телефон (контакт)": "phone", "Рабочий телефон (контакт)": "phone",
        "Рабочий email (контакт)": "email", "Личный email (контакт)": "email",
        "Теги": "tags", "Примечание": "note",
    }  # fmt: skip
    english = ["ID", "Full name", "Company", "Responsible user", "Work phone", "Mobile phone",
               "Work email", "Private email", "Tags", "Notes", "Position"]  # fmt: skip
    assert mapped(english) == {
        "ID": "external_id", "Full name": "full_name", "Company": "company",
        "Work phone": "phone", "Mobile phone": "phone", "Work email": "email",
        "Private email": "email", "Tags": "tags", "Notes": "note",
    }  # fmt: skip


def test_a_hubspot_export_is_guessed_for_contacts_and_companies():
    contacts = ["Record ID", "First Name", "Last Name", "Email", "Phone Number",
                "Mobile Phone Number", "Company Name", "Lifecycle Stage", "City",
                "Country/Region", "Street Address", "Date of birth", "Original Source",
                "Job Title", "Create Date"]  # fmt: skip
    assert mapped(contacts) == {
        "Record ID": "external_id", "First Name": "first_name", "Last Name": "last_name",
        "Email": "email", "Phone Number": "phone", "Mobile Phone Number": "phone",
        "Company Name": "company", "Lifecycle Stage": "kind", "City": "city",
        "Country/Region": "country", "Street Address": "address",
        "Date of birth": "birthday", "Original Source": "source",
    }  # fmt: skip
    companies = ["Record ID", "Company name", "Company Domain Name", "Phone Number", "City",
                 "Country/Region", "Street Address", "Description", "Industry"]  # fmt: skip
    assert mapped(companies, "companies") == {
        "Record ID": "external_id", "Company name": "name", "Company Domain Name": "website",
        "Phone Number": "phone", "City": "city", "Country/Region": "country",
        "Street Address": "address", "Description": "note",
    }  # fmt: skip


def test_a_bitrix24_export_in_russian_is_guessed_and_imports_with_its_owner_by_name(admin):
    header = ["ID", "Обращение", "Имя", "Отчество", "Фамилия", "Дата рождения", "Должность",
              "Адрес", "Город", "Страна", "Рабочий телефон", "Мобильный телефон",
              "Домашний телефон", "Рабочий e-mail", "Частный e-mail", "Компания", "Источник",
              "Ответственный", "Комментарий", "Тип контакта"]  # fmt: skip
    assert mapped(header) == {
        "ID": "external_id", "Имя": "first_name", "Отчество": "middle_name",
        "Фамилия": "last_name", "Дата рождения": "birthday", "Адрес": "address",
        "Город": "city", "Страна": "country", "Рабочий телефон": "phone",
        "Мобильный телефон": "phone", "Домашний телефон": "phone", "Рабочий e-mail": "email",
        "Частный e-mail": "email", "Компания": "company", "Источник": "source",
        "Ответственный": "owner", "Комментарий": "note",
    }  # fmt: skip
    User.objects.filter(pk=admin.pk).update(full_name="Ирина Соколова")
    row = ["17", "г-жа", "Анна", "Сергеевна", "Петрова", "17.05.1990", "Директор",
           "ул. Ленина, 1", "Казань", "Россия", "+7 (843) 123-45-67", "8 912 345 67 89", "",
           "anna@example.com", "", "Окна", "Сайт", "Ирина Соколова", "Звонить после 12",
           "Клиенты"]  # fmt: skip
    text = io.StringIO()
    csv.writer(text, delimiter=";").writerows([header, row])
    data = SimpleUploadedFile("contacts.csv", text.getvalue().encode("cp1251"))
    job = services.import_upload(actor=admin, upload=data, record_type="people")
    services.import_configure(
        actor=admin, job=job, mapping=job.mapping, match_by="email", on_duplicate="skip"
    )
    services.import_start(actor=admin, job=job)
    services.import_run(job.pk)
    job.refresh_from_db()
    assert (job.created, job.failed) == (1, 0), list(job.failures.values_list("reason"))
    anna = Person.objects.get()
    assert (anna.full_name, anna.country, anna.owner_id) == (
        "Анна Сергеевна Петрова", "RU", admin.pk)  # fmt: skip
    phones = list(anna.contact_points.filter(kind="phone").values_list("value", flat=True))
    assert phones == ["+78431234567", "+79123456789"]


def test_a_bitrix24_companies_export_in_russian_is_guessed():
    header = ["ID", "Название компании", "Тип компании", "Рабочий телефон",
              "Корпоративный сайт", "Рабочий e-mail", "Адрес", "Ответственный",
              "Комментарий"]  # fmt: skip
    assert mapped(header, "companies") == {
        "ID": "external_id", "Название компании": "name", "Рабочий телефон": "phone",
        "Корпоративный сайт": "website", "Рабочий e-mail": "email", "Адрес": "address",
        "Ответственный": "owner", "Комментарий": "note",
    }  # fmt: skip


def test_a_pipedrive_export_is_guessed_for_people_and_organizations():
    people = ["Person - ID", "Person - Name", "Person - First name", "Person - Last name",
              "Person - Organization", "Person - Phone - Work", "Person - Phone - Mobile",
              "Person - Email - Work", "Person - Email - Home", "Person - Label",
              "Person - Owner"]  # fmt: skip
    assert mapped(people) == {
        "Person - ID": "external_id", "Person - First name": "first_name",
        "Person - Last name": "last_name", "Person - Organization": "company",
        "Person - Phone - Work": "phone", "Person - Phone - Mobile": "phone",
        "Person - Email - Work": "email", "Person - Email - Home": "email",
        "Person - Label": "tags", "Person - Owner": "owner",
    }  # fmt: skip
    organizations = ["Organization - ID", "Organization - Name", "Organization - Address",
                     "Organization - Label", "Organization - Owner"]  # fmt: skip
    assert mapped(organizations, "companies") == {
        "Organization - ID": "external_id", "Organization - Name": "name",
        "Organization - Address": "address", "Organization - Label": "tags",
        "Organization - Owner": "owner",
    }  # fmt: skip


@pytest.mark.parametrize(
    "header",
    [["שם פרטי", "שם משפחה", "טלפון נייד", 'דוא"ל', "עיר", "הערות"],
     ["Անուն", "Ազգանուն", "Բջջային հեռախոս", "Էլ. փոստ", "Քաղաք", "Նշումներ"]],
)  # fmt: skip
def test_a_hand_made_hebrew_or_armenian_header_is_guessed(header):
    assert list(guess(header, "people").values()) == [
        "first_name", "last_name", "phone", "email", "city", "note"]  # fmt: skip
