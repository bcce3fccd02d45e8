"""E-mail templates: saved with their merge fields checked (a syntax error refused with
its line), rendered for a client in their language, previewed with a real client on the
screen, and used to start a message in the compose panel."""

import pytest
from django.core.exceptions import ValidationError

from accord.comms import merge
from accord.comms.models import EmailTemplate
from accord.comms.services import template_delete, template_render, template_save
from accord.contacts.services import person_create


@pytest.fixture
def greeting(admin):
    return template_save(
        actor=admin,
        name="Greeting",
        subject="Hello {{ client.first_name }}",
        html="<p>Dear {{ client.first_name }},</p>\n<p>{{ user.name }}, {{ our_company.name }}</p>",
        variants={"ru": {"subject": "Здравствуйте, {{ client.first_name }}",
                         "html": "<p>Дорогой {{ client.first_name }}!</p>"}},
    )  # fmt: skip


def test_a_template_renders_in_the_readers_language(admin, owner, greeting):
    ivan = person_create(actor=owner, data={"first_name": "Ivan", "language": "ru"})
    anna = person_create(actor=owner, data={"first_name": "<b>Anna</b>"})

    russian = template_render(template=greeting, language="ru",
                              values=merge.values_for(person=ivan, user=admin))  # fmt: skip
    english = template_render(template=greeting, language="en",
                              values=merge.values_for(person=anna, user=admin))  # fmt: skip

    assert russian.subject == "Здравствуйте, Ivan" and "Дорогой Ivan!" in russian.text
    assert english.subject == "Hello <b>Anna</b>"  # the subject is plain text
    assert "&lt;b&gt;Anna&lt;/b&gt;" in english.html  # a name is never markup in the body
    assert "Ada Admin, Window" in english.text or "Ada Admin," in english.text


def test_a_syntax_error_is_refused_with_its_line(admin):
    with pytest.raises(ValidationError) as refused:
        template_save(actor=admin, name="Broken", subject="Hi",
                      html="<p>Hello</p>\n<p>{{ client.first_name </p>")  # fmt: skip
    assert "Line 2" in refused.value.message_dict["html"][0]
    with pytest.raises(ValidationError) as refused:
        template_save(actor=admin, name="Broken", subject="Hi", html="<p>x</p>",
                      variants={"ru": {"html": "{% if client.city %}Привет"}})  # fmt: skip
    assert "variants.ru.html" in refused.value.message_dict
    assert not EmailTemplate.objects.exists()


def test_only_those_who_manage_mail_write_templates(owner, admin, greeting):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        template_save(actor=owner, name="Mine", subject="Hi", html="<p>x</p>")
    with pytest.raises(ValidationError):
        template_save(actor=admin, name="greeting", subject="Hi", html="<p>x</p>")  # taken
    template_delete(actor=admin, template=greeting)
    assert not EmailTemplate.objects.exists()


def test_the_editor_saves_and_previews_with_a_real_client(admin_client, owner):
    vera = person_create(actor=owner, data={"first_name": "Vera", "language": "ru"})
    form = {"name": "Offer", "subject": "Offer for {{ client.first_name }}",
            "html": "Dear {{ client.first_name }},\n\nour offer.", "subject_ru": "",
            "html_ru": "Дорогая {{ client.first_name }}!"}  # fmt: skip

    preview = admin_client.post(
        "/settings/email/templates/preview/",
        {**form, "preview_person": vera.pk},
        headers={"HX-Request": "true"},
    )
    assert preview.status_code == 200
    assert "Offer for Vera" in preview.content.decode()
    assert "Дорогая Vera!" in preview.content.decode()

    saved = admin_client.post("/settings/email/templates/new/", form)
    template = EmailTemplate.objects.get()
    assert saved.status_code == 302 and template.html.startswith("<p>Dear {{ client.first_name }}")
    assert template.variants["ru"]["html"] == "<p>Дорогая {{ client.first_name }}!</p>"

    broken = admin_client.post(f"/settings/email/templates/{template.pk}/",
                               {**form, "subject": "{{ client.first_name"})  # fmt: skip
    assert broken.status_code == 422 and "Line 1" in broken.content.decode()


def test_compose_starts_from_a_template_filled_in_for_the_client(
    manager_client, owner, greeting, mailbox
):
    vera = person_create(actor=owner, data={"first_name": "Vera", "emails": ["v@example.com"]})
    page = manager_client.get(f"/mail/new/?person={vera.pk}&template={greeting.pk}")
    html = page.content.decode()
    assert 'value="Hello Vera"' in html and "Dear Vera," in html
