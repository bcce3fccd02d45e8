"""Settings → Telephony: an administrator connects a PBX, names whose extension is whose,
copies the address for the PBX and sees what it refused; nobody else reaches it."""

import json

from django.test import Client

from accord.comms.models import Call, Extension, Telephony
from accord.comms.services.calls import telephony_save
from accord.comms.telephony import generic_signature
from tests.conftest import run_worker

FORM = {"name": "Office PBX", "provider": "generic", "api_key": "", "secret": "s3cret",
        "lead_team": "", "callback_minutes": "15", "active": "on"}  # fmt: skip


def test_an_administrator_connects_a_pbx_with_its_extensions(admin_client, owner, admin):
    page = admin_client.get("/settings/telephony/")
    assert "No telephony yet" in page.content.decode()

    response = admin_client.post("/settings/telephony/new/", {
        **FORM, "ext_number": ["101", "102", ""], "ext_user": [owner.pk, admin.pk, ""],
    })  # fmt: skip
    telephony = Telephony.objects.get()
    assert response.status_code == 302
    assert response.url == f"/settings/telephony/{telephony.pk}/"
    assert dict(Extension.objects.values_list("number", "user__email")) == {
        "101": owner.email, "102": admin.email,
    }  # fmt: skip
    page = admin_client.get(response.url).content.decode()
    assert f"/hooks/telephony/{telephony.hook_token}/" in page
    assert "s3cret" not in page and "A secret is stored." in page

    # Saved again without the secret: the stored one stays; extension 102 removed.
    admin_client.post(response.url, {**FORM, "secret": "", "ext_number": ["101"],
                                      "ext_user": [owner.pk]})  # fmt: skip
    telephony.refresh_from_db()
    assert telephony.secret_sealed
    assert list(telephony.extensions.values_list("number", flat=True)) == ["101"]


def test_a_half_filled_extension_row_is_an_error_and_keeps_the_input(admin_client, owner):
    response = admin_client.post("/settings/telephony/new/", {
        **FORM, "ext_number": ["101", "205"], "ext_user": [owner.pk, ""],
    })  # fmt: skip
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose whose extension 205 is." in page
    assert 'value="205"' in page
    assert not Telephony.objects.exists()


def test_zadarma_needs_its_secret(admin_client):
    response = admin_client.post("/settings/telephony/new/", {**FORM, "provider": "zadarma",
                                                               "secret": ""})  # fmt: skip
    assert response.status_code == 422
    assert "API secret" in response.content.decode()


def test_the_page_shows_what_the_pbx_sent_that_was_refused(admin_client, admin):
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    body = json.dumps({"call_id": "c1", "event": "ringing"}).encode()
    Client().post(f"/hooks/telephony/{telephony.hook_token}/", body,
                  content_type="application/json",
                  headers={"X-Accord-Signature": generic_signature("s3cret", body)})  # fmt: skip
    page = admin_client.get(f"/settings/telephony/{telephony.pk}/").content.decode()
    assert "Refused lately" in page and "direction" in page


def test_only_administrators_reach_telephony_settings(manager_client, admin):
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    assert manager_client.get("/settings/telephony/").status_code == 404
    assert manager_client.get(f"/settings/telephony/{telephony.pk}/").status_code == 404
    assert manager_client.post(f"/settings/telephony/{telephony.pk}/remove/").status_code == 404
    assert Telephony.objects.exists()


def test_removing_a_connection_keeps_its_calls(admin_client, admin):
    telephony = telephony_save(actor=admin, data={"name": "PBX", "secret": "s3cret"})
    body = json.dumps({"call_id": "c1", "event": "missed", "direction": "in",
                       "from": "+79161234567"}).encode()  # fmt: skip
    Client().post(f"/hooks/telephony/{telephony.hook_token}/", body,
                  content_type="application/json",
                  headers={"X-Accord-Signature": generic_signature("s3cret", body)})  # fmt: skip
    run_worker()
    listed = admin_client.get("/settings/telephony/").content.decode()
    assert '<td class="num">1</td>' in listed  # its one call
    admin_client.post(f"/settings/telephony/{telephony.pk}/remove/")
    assert not Telephony.objects.exists()
    assert Call.objects.get().telephony is None
