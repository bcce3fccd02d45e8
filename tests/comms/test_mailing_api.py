"""The API of templates, mailings and unsubscribes: templates made and changed with
their syntax checked (422 with the field), a mailing prepared, its audience read, started,
paused, cancelled, its counts and recipients; the unsubscribes listed."""

from django.test import Client

from accord.comms import mailings, unsubscribe
from accord.contacts.services import person_create, segment_save
from tests.comms.conftest import make_mailbox
from tests.comms.test_api import admin_api


def test_templates_are_made_changed_and_refused_with_the_field(admin, api):
    admin_side = admin_api(admin)
    made = admin_side.post_json("/api/v1/email-templates", {
        "name": "Offer", "subject": "Hi {{ client.first_name }}", "html": "<p>Offer</p>",
        "marketing": True, "variants": {"ru": {"subject": "Привет", "html": "<p>Тут</p>"}},
    })  # fmt: skip
    assert made.status_code == 201, made.content
    template = made.json()
    assert template["variants"]["ru"]["subject"] == "Привет" and template["text"] == "Offer"

    path = f"/api/v1/email-templates/{template['id']}"
    broken = admin_side.patch_json(path, {"html": "<p>{% if x %}</p>"}, HTTP_IF_MATCH=made["ETag"])
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["field"] == "html"
    assert "Line 1" in broken.json()["errors"][0]["message"]
    changed = admin_side.patch_json(f"/api/v1/email-templates/{template['id']}",
                                    {"name": "Spring"}, HTTP_IF_MATCH=made["ETag"])  # fmt: skip
    assert changed.status_code == 200 and changed.json()["name"] == "Spring"
    assert changed.json()["html"] == "<p>Offer</p>"  # the rest kept

    assert api.post_json("/api/v1/email-templates", {"name": "M", "subject": "S",
                                                     "html": "x"}).status_code == 403  # fmt: skip
    assert [t["name"] for t in api.get("/api/v1/email-templates").json()["items"]] == ["Spring"]


def test_a_mailing_is_prepared_started_and_followed(admin, owner, api, sink):
    admin_side = admin_api(admin)
    template = admin_side.post_json("/api/v1/email-templates", {
        "name": "Offer", "subject": "Offer", "html": "<p>Offer</p>", "marketing": True,
    }).json()  # fmt: skip
    for index, consent in enumerate([True, True, False]):
        person_create(actor=owner, data={"first_name": f"P{index}", "tags": ["news"],
                                         "emails": [f"p{index}@example.com"],
                                         "marketing_consent": consent})  # fmt: skip
    segment = segment_save(actor=owner, name="News", record_type="person", filters={"tag": "news"})
    mailbox = make_mailbox(admin, sink.port)

    refused = api.post_json("/api/v1/mailings", {"name": "", "template": template["id"],
                                                 "segment": str(segment.pk),
                                                 "mailbox": str(mailbox.pk)})  # fmt: skip
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "name"
    made = api.post_json("/api/v1/mailings", {"name": "May", "template": template["id"],
                                              "segment": str(segment.pk),
                                              "mailbox": str(mailbox.pk)})  # fmt: skip
    assert made.status_code == 201 and made.json()["state"] == "draft"
    mailing_id = made.json()["id"]
    assert api.get(f"/api/v1/mailings/{mailing_id}/audience").json() == {
        "total": 3,
        "receive": 2,
        "left_out": {"not_agreed": 1},
    }

    started = api.post(f"/api/v1/mailings/{mailing_id}/start")
    assert started.status_code == 200 and started.json()["counts"]["queued"] == 2
    assert api.post(f"/api/v1/mailings/{mailing_id}/start").status_code == 409
    mailings.send(int(mailing_id))
    status = api.get(f"/api/v1/mailings/{mailing_id}").json()
    assert status["state"] == "done" and status["counts"]["sent"] == 2
    assert status["counts"]["skipped"] == 1
    skipped = api.get(f"/api/v1/mailings/{mailing_id}/recipients?state=skipped").json()
    assert [r["reason"] for r in skipped["items"]] == ["not_agreed"]
    assert api.post(f"/api/v1/mailings/{mailing_id}/pause").status_code == 409

    link = sink[0]["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")
    Client(enforce_csrf_checks=True).post(link)
    [kept] = api.get("/api/v1/unsubscribes").json()["items"]
    assert kept["address"] == sink[0]["To"] and kept["mailing"] == mailing_id
    assert unsubscribe.read("nonsense") is None
