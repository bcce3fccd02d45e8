"""Phone numbers in an import: read in the country the row names (a Country column) or
else the import's country (the setup screen, the API, `accord import --region`); a number
not valid there is kept on the person as typed, marked on the card and listed in the
report as a warning for its row — never made into another country's number, and the
row is not lost."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.accounts.services import token_create
from accord.cli import main
from accord.contacts.models import ContactPoint, Person
from accord.transfer import services
from accord.transfer.models import ImportJob
from tests.conftest import ApiClient

ISRAELI = "052-000-1007"


@pytest.fixture
def admin_api(admin):
    return ApiClient(token_create(user=admin, name="sync")[1])


def upload(actor, header, rows, **setup) -> ImportJob:
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    data = SimpleUploadedFile("people.csv", text.getvalue().encode())
    job = services.import_upload(actor=actor, upload=data, record_type="people")
    services.import_configure(
        actor=actor,
        job=job,
        mapping=job.mapping,
        match_by=setup.pop("match_by", ""),
        on_duplicate=setup.pop("on_duplicate", "skip"),
        **setup,
    )
    services.import_start(actor=actor, job=job)
    services.import_run(job.pk)
    job.refresh_from_db()
    return job


def test_a_number_not_valid_in_the_imports_country_is_kept_as_typed_and_reported(admin):
    job = upload(
        admin,
        ["Name", "Phone", "E-mail"],
        [["Noa Cohen", ISRAELI, "noa@example.com"],
         ["Anna Petrova", "8 (912) 345-67-89", "anna@example.com"]],
        region="RU",
    )  # fmt: skip
    assert (job.status, job.created, job.failed) == ("done", 2, 0)
    noa = Person.objects.get(full_name="Noa Cohen")
    [point] = noa.contact_points.filter(kind="phone")
    assert (point.value, point.not_valid) == (ISRAELI, True)  # not +70520001007
    assert noa.primary_phone == ""
    assert not ContactPoint.objects.filter(value="+70520001007").exists()
    anna = Person.objects.get(full_name="Anna Petrova")
    assert anna.primary_phone == "+79123456789"
    assert not anna.contact_points.get(kind="phone").not_valid
    [warning] = job.warnings.all()
    assert (warning.row, warning.column, warning.value) == (2, "Phone", ISRAELI)
    assert "not a valid phone number in Russia" in warning.message


def test_the_report_screen_lists_the_warning_and_the_card_shows_the_mark(admin, admin_client):
    job = upload(admin, ["Name", "Phone"], [["Noa Cohen", ISRAELI]], region="RU")
    report = admin_client.get(f"/clients/import/{job.pk}/").content.decode()
    assert "Imported, but look at these" in report
    assert ISRAELI in report and "not a valid phone number in Russia" in report
    noa = Person.objects.get()
    card = admin_client.get(f"/clients/people/{noa.pk}/").content.decode()
    assert ISRAELI in card
    assert "not a valid number" in card
    assert f'href="tel:{ISRAELI}"' not in card


@pytest.mark.parametrize("query", [ISRAELI, "0520001007"])
def test_a_number_kept_as_typed_is_found_by_search(admin, admin_api, query):
    upload(admin, ["Name", "Phone"], [["Noa Cohen", ISRAELI]], region="RU")
    found = admin_api.get("/api/v1/people", {"q": query}).json()["items"]
    assert [p["first_name"] for p in found] == ["Noa Cohen"]


def test_the_imports_country_il_reads_the_number_as_israeli(admin):
    job = upload(admin, ["Name", "Phone"], [["Noa Cohen", ISRAELI]], region="IL")
    assert job.region == "IL"
    noa = Person.objects.get()
    assert noa.primary_phone == "+972520001007"
    assert not job.warnings.exists()


@pytest.mark.parametrize("country", ["Israel", "IL", "il", "Израиль", "ישראל"])
def test_a_row_naming_its_country_has_its_number_read_there(admin, country):
    job = upload(
        admin,
        ["Name", "Phone", "Country"],
        [["Noa Cohen", ISRAELI, country], ["Anna Petrova", "8 (912) 345-67-89", ""]],
        region="RU",
    )
    assert job.mapping["2"] == "country"
    assert (job.created, job.failed, job.warnings.count()) == (2, 0, 0)
    noa = Person.objects.get(full_name="Noa Cohen")
    assert (noa.primary_phone, noa.country) == ("+972520001007", "IL")
    assert Person.objects.get(full_name="Anna Petrova").primary_phone == "+79123456789"


def test_text_that_is_no_number_at_all_still_fails_its_row(admin):
    job = upload(admin, ["Name", "Phone"], [["Boris", "call the office"]], region="RU")
    assert (job.created, job.failed) == (0, 1)
    assert "not a phone number" in job.failures.get().reason


def test_the_setup_screen_offers_the_countries_with_the_companys_first(
    admin, admin_client, settings
):
    settings.ACCORD_PHONE_REGION = "AM"
    text = f"Name,Phone\nNoa Cohen,{ISRAELI}\n"
    data = SimpleUploadedFile("people.csv", text.encode())
    job = services.import_upload(actor=admin, upload=data, record_type="people")
    page = admin_client.get(f"/clients/import/{job.pk}/").content.decode()
    assert '<option value="AM" selected>Armenia</option>' in page
    assert '<option value="IL">Israel</option>' in page
    assert "only numbers with a +code" not in page  # "" would mean Armenia here
    preview = admin_client.post(
        f"/clients/import/{job.pk}/",
        {"column_0": "full_name", "column_1": "phone", "match_by": "", "on_duplicate": "skip",
         "region": "RU", "preview": "1"},
    ).content.decode()  # fmt: skip
    assert "not a valid phone number in Russia" in preview
    job.refresh_from_db()
    assert job.region == "RU"
    refused = admin_client.post(
        f"/clients/import/{job.pk}/",
        {"column_0": "full_name", "column_1": "phone", "match_by": "", "on_duplicate": "skip",
         "region": "XX", "preview": "1"},
    ).content.decode()  # fmt: skip
    assert "Select a valid choice" in refused


def test_the_command_line_reads_numbers_in_the_region_it_is_given(admin, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text(f"Name,Phone\nNoa Cohen,{ISRAELI}\n", encoding="utf-8")
    assert main(["import", str(source), "--region", "IL", "--user", admin.email]) == 0
    assert Person.objects.get().primary_phone == "+972520001007"


def test_the_api_sets_the_region_and_lists_the_warnings(admin, admin_api):
    text = f"Name,Phone\nNoa Cohen,{ISRAELI}\n"
    data = SimpleUploadedFile("people.csv", text.encode())
    job = services.import_upload(actor=admin, upload=data, record_type="people")
    setup = {"mapping": {"0": "full_name", "1": "phone"}, "match_by": ""}
    refused = admin_api.put_json(f"/api/v1/imports/{job.pk}/setup", {**setup, "region": "XX"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "region"
    done = admin_api.put_json(f"/api/v1/imports/{job.pk}/setup", {**setup, "region": "RU"})
    assert done.json()["region"] == "RU"
    preview = admin_api.get(f"/api/v1/imports/{job.pk}/preview").json()
    assert "not a valid phone number" in preview[0]["cells"][1]["warning"]
    admin_api.post_json(f"/api/v1/imports/{job.pk}/start", {})
    services.import_run(job.pk)
    warnings = admin_api.get(f"/api/v1/imports/{job.pk}/warnings").json()["items"]
    assert [(w["row"], w["column"], w["value"]) for w in warnings] == [(2, "Phone", ISRAELI)]


def test_updating_from_the_file_again_adds_the_number_once_and_then_changes_nothing(admin):
    rows = [["Noa Cohen", ISRAELI, "noa@example.com"]]
    header = ["Name", "Phone", "E-mail"]
    upload(admin, header, [["Noa Cohen", "", "noa@example.com"]], region="RU")
    first = upload(admin, header, rows, region="RU", match_by="email", on_duplicate="update")
    assert (first.created, first.updated, first.failed) == (0, 1, 0)
    noa = Person.objects.get()
    point = noa.contact_points.get(kind="phone")
    assert (point.value, point.not_valid) == (ISRAELI, True)
    again = upload(admin, header, rows, region="RU", match_by="email", on_duplicate="update")
    assert (again.created, again.updated, again.skipped) == (0, 0, 1)
    assert noa.contact_points.filter(kind="phone").count() == 1


def test_without_a_country_the_same_file_imported_again_finds_the_people_by_their_numbers(
    admin, settings
):
    """A new company that set no country yet: every national number is kept as typed,
    and importing the file again with "update" must not make its people twice."""
    settings.ACCORD_PHONE_REGION = ""
    header = ["Name", "Phone"]
    rows = [["Anna Petrova", "8 (912) 345-67-89"], ["Boris Ivanov", "8 916 000 11 22"],
            ["Anna again", "8 (912) 345-67-89"]]  # fmt: skip
    first = upload(admin, header, rows, match_by="phone", on_duplicate="update")
    assert (first.created, first.failed) == (2, 0)
    assert first.warnings.count() == 3
    again = upload(admin, header, rows, match_by="phone", on_duplicate="update")
    assert (again.created, again.updated, again.skipped, again.failed) == (0, 0, 3, 0)
    assert Person.objects.count() == 2
    anna = Person.objects.get(full_name="Anna again")  # the later row's name won
    assert list(anna.contact_points.values_list("value", "not_valid")) == [
        ("8 (912) 345-67-89", True)
    ]


def test_without_a_company_country_the_setup_screen_offers_only_numbers_with_a_code(
    admin, admin_client, settings
):
    settings.ACCORD_PHONE_REGION = ""
    data = SimpleUploadedFile("people.csv", f"Name,Phone\nNoa Cohen,{ISRAELI}\n".encode())
    job = services.import_upload(actor=admin, upload=data, record_type="people")
    page = admin_client.get(f"/clients/import/{job.pk}/").content.decode()
    assert '<option value="" selected>— only numbers with a +code —</option>' in page
