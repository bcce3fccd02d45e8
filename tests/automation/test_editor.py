"""The rule form without code: nested steps as a flat list and back, a misplaced "End"
refused, and the form's add, move, remove and save."""

import pytest

from accord.automation import editor
from accord.automation.models import Rule

pytestmark = pytest.mark.django_db(transaction=True)

TELL = {"type": "notify", "params": {"to": {"to": "head"}, "message": "late"}}
TASK = {
    "type": "create_task",
    "params": {
        "title": "Call",
        "kind": "call",
        "assignee": {"to": "role", "role": "manager"},
        "due_in": {"amount": 15, "unit": "minutes"},
    },
}
IF = {"match": "all", "items": [{"field": "deal.amount", "op": "gte", "value": "1000"}]}
UNTIL = {"match": "all", "items": [{"field": "deal.stage", "op": "ne", "value": "Request"}]}


def test_nested_steps_become_a_flat_list_and_come_back_the_same():
    steps = [
        TASK,
        {
            "type": "wait",
            "params": {"until": UNTIL, "timeout": {"amount": 1, "unit": "hours"}},
            "timeout_steps": [TELL],
        },
        {
            "type": "branch",
            "if": IF,
            "then": [TELL, {"type": "add_tag", "params": {"tag": "big"}}],
            "else": [{"type": "wait", "params": {"amount": 2, "unit": "days"}}],
        },
    ]
    rows = editor.flatten(steps)
    assert [(r["type"], r["depth"]) for r in rows] == [
        ("create_task", 0),
        ("wait_until", 0),
        ("timeout", 0),
        ("notify", 1),
        ("end", 0),
        ("if", 0),
        ("notify", 1),
        ("add_tag", 1),
        ("otherwise", 0),
        ("wait", 1),
        ("end", 0),
    ]
    assert editor.nest(rows) == [
        TASK,
        {
            "type": "wait",
            "params": {"until": UNTIL, "timeout": {"amount": 1, "unit": "hours"}},
            "timeout_steps": [TELL],
        },
        {
            "type": "branch",
            "if": IF,
            "then": [TELL, {"type": "add_tag", "params": {"tag": "big"}}],
            "else": [{"type": "wait", "params": {"amount": 2, "unit": "days"}}],
        },
    ]
    assert [
        r["depth"]
        for r in editor.indent([{k: v for k, v in r.items() if k != "depth"} for r in rows])
    ] == [r["depth"] for r in rows]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"type": "end"}], "nothing to end"),
        ([{"type": "otherwise"}], "inside an “If…”"),
        ([{"type": "if", "c_field": "deal.amount", "c_op": "gt", "c_value": "1"}], "has no “End”"),
        ([{"type": "timeout"}], "follows a “Wait until…”"),
    ],
)
def test_a_misplaced_marker_is_refused(rows, message):
    with pytest.raises(editor.EditorError, match=message):
        editor.nest(rows)


def form(**extra):
    data = {
        "name": "From the form",
        "subject": "deal",
        "trigger": "created",
        "enabled": "on",
        "c-count": "0",
        "s-count": "1",
        "s-0-type": "create_task",
        "s-0-title": "Call {{ deal.title }}",
        "s-0-kind": "call",
        "s-0-who": "owner",
        "s-0-amount": "15",
        "s-0-unit": "minutes",
    }
    data.update(extra)
    return data


def test_the_form_adds_moves_and_removes_rows_without_saving(admin_client, stages):
    page = admin_client.post("/settings/automation/new", form(add_step="1")).content.decode()
    assert 'name="s-1-type"' in page and not Rule.objects.exists()
    page = admin_client.post("/settings/automation/new", form(add_condition="1")).content.decode()
    assert 'name="c-0-field"' in page
    moved = form(**{"s-count": "2", "s-1-type": "add_tag", "s-1-tag": "vip", "s-1-up": "1"})
    page = admin_client.post("/settings/automation/new", moved).content.decode()
    assert page.index('value="vip"') < page.index("Call {{ deal.title }}")
    gone = form(**{"s-0-remove": "1"})
    page = admin_client.post("/settings/automation/new", gone).content.decode()
    assert 'name="s-0-type"' not in page


def test_the_form_saves_a_rule_and_shows_what_is_wrong(admin_client, stages):
    bad = form(
        **{
            "s-0-title": "Call {{ deal.title }",
            "c-count": "1",
            "c-0-field": "deal.amount",
            "c-0-op": "gt",
            "c-0-value": "",
        }
    )
    page = admin_client.post("/settings/automation/new", {**bad, "save": "1"}).content.decode()
    assert "is not closed" in page and "Give a value to compare deal.amount with." in page
    assert not Rule.objects.exists()
    good = form(**{"c-count": "1", "c-0-field": "deal.amount", "c-0-op": "gt", "c-0-value": "100"})
    response = admin_client.post("/settings/automation/new", {**good, "save": "1"})
    rule = Rule.objects.get()
    assert response.url == f"/settings/automation/{rule.pk}/"
    assert rule.conditions == {
        "match": "all",
        "items": [{"field": "deal.amount", "op": "gt", "value": "100"}],
    }
    assert rule.actions[0]["params"]["due_in"] == {"amount": 15, "unit": "minutes"}
    page = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert "Call {{ deal.title }}" in page


def test_the_form_saves_a_weekly_schedule_with_a_deal_and_a_webhook_and_reads_it_back(
    admin_client, stages
):
    data = form(
        subject="person",
        trigger="schedule",
        every="week",
        weekdays=["0", "4"],
        time="08:15",
        segment="",
        **{
            "s-count": "2",
            "s-0-type": "create_deal",
            "s-0-title": "Repeat order for {{ person.first_name }}",
            "s-0-stage": str(stages["Measured"].pk),
            "s-0-deal_amount": "900",
            "s-0-who": "owner",
            "s-1-type": "call_webhook",
            "s-1-url": "https://hooks.example.com/accord",
            "s-1-secret": "",
        },
    )
    page = admin_client.post("/settings/automation/new", {**data, "save": "1"}).content.decode()
    assert "Choose the segment of clients the schedule goes through." in page
    assert not Rule.objects.exists()
    from accord.accounts.models import User
    from accord.contacts.services import segment_save

    regulars = segment_save(
        actor=User.objects.get(email="ada@example.com"),
        name="Regulars",
        record_type="person",
        filters={"tag": "regular"},
        shared=True,
    )
    data["segment"] = str(regulars.pk)
    admin_client.post("/settings/automation/new", {**data, "save": "1"})
    rule = Rule.objects.get()
    assert rule.trigger_options == {
        "every": "week",
        "weekdays": [0, 4],
        "time": "08:15",
        "segment": str(regulars.pk),
    }
    deal, hook = rule.actions
    assert deal["params"] == {
        "title": "Repeat order for {{ person.first_name }}",
        "stage": stages["Measured"].pk,
        "owner": {"to": "owner"},
        "amount": "900",
    }
    assert hook["params"]["url"] == "https://hooks.example.com/accord"
    assert len(hook["params"]["secret"]) >= 24  # a blank secret gets a new one: always signed
    page = admin_client.get(f"/settings/automation/{rule.pk}/").content.decode()
    assert "every Monday, Friday · 08:15 · each record in Regulars" in page
    assert "Send the record to https://hooks.example.com<" in page  # not the path: a token
    edit = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert 'value="4" checked' in edit and hook["params"]["secret"] in edit


# --- what the form offers to pick ------------------------------------------------------


@pytest.fixture
def window_size(admin):
    from accord.core.services import custom_field_save

    return custom_field_save(
        actor=admin, record_type="deal", label="Window size", type="choice",
        choices=["Small", "Large"],
    )  # fmt: skip


def test_change_a_field_names_the_fields_by_their_labels_and_keeps_their_names(
    admin_client, stages, window_size
):
    page = admin_client.get("/settings/automation/new").content.decode()
    assert '<option value="expected_close_date">Expected close</option>' in page
    assert ">expected_close_date<" not in page
    size = f'value="custom.{window_size.key}" data-values="custom-{window_size.pk}"'
    assert f"<option {size}>Window size</option>" in page
    assert f'<datalist id="values-custom-{window_size.pk}"><option value="Small">' in page
    data = form(**{"s-0-type": "change_field", "s-0-field": f"custom.{window_size.key}",
                   "s-0-value": "Large", "c-count": "1", "c-0-op": "eq", "c-0-value": "Small",
                   "c-0-field": f"deal.custom.{window_size.key}"})  # fmt: skip
    admin_client.post("/settings/automation/new", {**data, "save": "1"})
    step = Rule.objects.get().actions[0]
    assert step == {"type": "change_field",
                    "params": {"field": f"custom.{window_size.key}", "value": "Large"}}  # fmt: skip
    edit = admin_client.get(f"/settings/automation/{Rule.objects.get().pk}/edit").content.decode()
    assert f"<option {size} selected>Window size</option>" in edit
    page = admin_client.get(f"/settings/automation/{Rule.objects.get().pk}/").content.decode()
    assert "Set Window size to “Large”" in page  # the rule in words names it so too
    assert "deal · Window size is “Small”" in page


def test_a_step_names_a_user_from_a_list_of_names_and_the_rule_keeps_the_email(
    admin_client, admin, owner, stages
):
    page = admin_client.get("/settings/automation/new").content.decode()
    assert '<select id="s-0-who_user" name="s-0-who_user"' in page
    assert '<option value="olivia@example.com">Olivia Owner</option>' in page
    data = form(**{"s-0-who": "user", "s-0-who_user": "olivia@example.com"})
    admin_client.post("/settings/automation/new", {**data, "save": "1"})
    rule = Rule.objects.get()
    assert rule.actions[0]["params"]["assignee"] == {"to": "user", "user": "olivia@example.com"}
    page = admin_client.get(f"/settings/automation/{rule.pk}/").content.decode()
    assert "Create the task “Call {{ deal.title }}” for Olivia Owner, due in" in page

    # A rule written through the API may spell the e-mail in capitals: still her, chosen.
    from accord.automation.services import rule_save

    rule.actions[0]["params"]["assignee"]["user"] = "OLIVIA@example.com"
    rule_save(actor=admin, rule=rule, data={"name": rule.name, "actions": rule.actions})
    edit = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert '<option value="olivia@example.com" selected>Olivia Owner</option>' in edit

    # Someone who left stays shown as the rule names them, not silently replaced.
    from accord.accounts.services import user_set_active

    user_set_active(user=owner, actor=admin, active=False)
    edit = admin_client.get(f"/settings/automation/{rule.pk}/edit").content.decode()
    assert "Olivia Owner" not in edit
    assert (
        '<option value="OLIVIA@example.com" selected>OLIVIA@example.com (not an active user)'
        in edit
    )


def test_a_condition_offers_the_values_its_field_can_take(admin_client, owner, stages, window_size):
    page = admin_client.post("/settings/automation/new", form(add_condition="1")).content.decode()
    # The field's options say which list of values their value offers…
    assert '<option value="deal.stage" data-values="stages">Deal · Stage</option>' in page
    assert '<option value="deal.owner" data-values="users">Deal · Owner (e-mail)</option>' in page
    assert 'value="client.owner" data-values="users"' in page
    assert 'value="deal.title">Deal · Title</option>' in page  # free text: nothing offered
    assert f'value="deal.custom.{window_size.key}" data-values="custom-{window_size.pk}"' in page
    # …and the lists hold the known values, stored as the conditions compare them.
    assert '<datalist id="values-stages"><option value="Request" label="Windows">' in page
    assert '<option value="olivia@example.com" label="Olivia Owner">' in page
    assert '<option value="won" label="Won">' in page
    assert 'data-values-target="c-0-value"' in page and 'id="c-0-value"' in page


def merge_menu(page: str) -> str:
    return page.split('<template id="merge-fields">')[1].split("</template>")[0]


def test_insert_a_field_offers_the_record_s_fields_by_their_labels(
    admin_client, stages, window_size
):
    page = admin_client.get("/settings/automation/new").content.decode()
    menu = merge_menu(page)
    assert 'data-merge="{{ client.first_name }}"><span dir="auto">First name</span>' in menu
    assert 'data-merge="{{ deal.title }}"' in menu and 'data-merge="{{ owner.name }}"' in menu
    size = f"{{{{ deal.custom.{window_size.key} }}}}"
    assert f'data-merge="{size}"><span dir="auto">Window size</span>' in menu
    # Each text that takes {{ }} has its menu; a web address does not.
    for text in ("title", "description", "value", "deal_amount", "message", "subject", "body"):
        assert f'data-merge-menu="s-0-{text}"' in page
    assert 'data-merge-menu="s-0-url"' not in page
    # A rule on a person offers the client's fields, and no deal's.
    person = admin_client.post("/settings/automation/new", form(subject="person", refresh="1"))
    menu = merge_menu(person.content.decode())
    assert 'data-merge="{{ client.first_name }}"' in menu and "{{ deal." not in menu
