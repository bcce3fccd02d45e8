"""A drop on the board: its input is read by a form (a bad stage or version is a 400
with a message, never a 500), and the answer holds both columns' heads, counts and
money totals as the board shows them, and the moved card, as htmx out-of-band partials."""

import re

import pytest
from django.test import Client

from accord.accounts.services import user_create
from accord.sales.models import Deal
from accord.sales.services import deal_create, pipeline_create
from tests.conftest import PASSWORD, log_in


def heads(content: bytes) -> dict[str, tuple[str, str]]:
    """{stage name: (count, total)} of the column heads in an answer."""
    found = {}
    for head in re.findall(
        r'<header class="board-column-head".*?</header>', content.decode(), re.S
    ):
        assert 'hx-swap-oob="true"' in head
        name = re.search(r"</svg> (.*?)</h2>", head).group(1)
        count = re.search(r"data-count>(.*?)<", head).group(1)
        total = re.search(r"data-total>(.*?)<", head).group(1)
        found[name] = (count, total)
    return found


@pytest.fixture
def deals(owner, stages):
    return [
        deal_create(actor=owner, data={"title": "Door", "amount": "1500"}),
        deal_create(actor=owner, data={"title": "Roof", "amount": "4200"}),
        deal_create(
            actor=owner, data={"title": "Porch", "amount": "300", "stage": stages["Measured"]}
        ),
    ]


def drop(client, deal, stage, **extra):
    return client.post(
        f"/deals/{deal.pk}/move/" + extra.pop("query", ""),
        {"stage": stage.pk, "version": deal.version, **extra},
    )


def test_a_drop_answers_both_columns_heads_with_counts_and_totals(manager_client, deals, stages):
    door = deals[0]
    answer = drop(manager_client, door, stages["Measured"])
    assert answer.status_code == 200
    assert heads(answer.content) == {
        "Request": ("1", "4,200 EUR"),
        "Measured": ("2", "1,800 EUR"),
    }
    page = answer.content.decode()
    # The moved card, with its new version, replaces the one the board shows.
    assert f"hx-swap-oob=\"outerHTML:.deal-card[data-deal='{door.pk}']\"" in page
    assert f'data-version="{door.version + 1}"' in page
    assert 'id="board-status" role="status" aria-live="polite" hx-swap-oob="true"></p>' in page
    door.refresh_from_db()
    assert door.stage == stages["Measured"]


def test_a_reorder_in_one_column_answers_its_one_head(manager_client, deals, stages):
    door, roof = deals[0], deals[1]
    answer = drop(manager_client, roof, stages["Request"], after=door.pk)
    assert heads(answer.content) == {"Request": ("2", "5,700 EUR")}


def test_a_drop_on_won_removes_the_card_and_the_column_it_left_counts_less(
    manager_client, deals, stages
):
    door = deals[0]
    answer = drop(manager_client, door, stages["Won"])
    assert heads(answer.content) == {"Request": ("1", "4,200 EUR")}
    assert f"hx-swap-oob=\"delete:.deal-card[data-deal='{door.pk}']\"" in answer.content.decode()
    assert Deal.objects.get(pk=door.pk).status == Deal.WON


def test_the_heads_count_what_the_filtered_board_shows(manager_client, deals, stages, owner):
    rival = user_create(email="rival@example.com", password=PASSWORD, role="administrator")
    deal_create(actor=rival, data={"title": "Rival's", "amount": "999", "owner": owner})
    mine = drop(manager_client, deals[0], stages["Measured"], query="?q=Door")
    assert heads(mine.content) == {"Request": ("0", "0 EUR"), "Measured": ("1", "1,500 EUR")}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stage": "x"}, "This column is not a stage of the deal&#x27;s pipeline."),
        ({"stage": "99999999999999999999"}, "This column is not a stage"),
        ({"stage": ""}, "Drop the deal on a column."),
        ({"version": "abc"}, "The board sent a version that is not a number"),
        ({"version": ""}, "The board sent no version of the deal"),
        ({"version": "-1"}, "Ensure this value is greater than or equal to 1."),
        ({"version": "99999999999999999999"}, "less than or equal to"),
        ({"after": "nope"}, "The card above the dropped one is not on the board any more"),
    ],
)
def test_bad_input_is_a_400_with_a_message_and_moves_nothing(
    manager_client, deals, stages, data, message
):
    door = deals[0]
    sent = {"stage": stages["Measured"].pk, "version": door.version, **data}
    answer = manager_client.post(f"/deals/{door.pk}/move/", sent)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert message in page and 'id="board-status"' in page and "hx-swap-oob" in page
    door.refresh_from_db()
    assert (door.stage, door.version) == (stages["Request"], 1)


def test_a_stage_of_another_pipeline_is_refused(manager_client, admin, deals, stages):
    other = pipeline_create(
        actor=admin,
        name="Service",
        stages=[{"name": "New"}, {"name": "Done", "kind": "won"}, {"name": "No", "kind": "lost"}],
    )
    answer = drop(manager_client, deals[0], other.stages.first())
    assert answer.status_code == 400
    assert "not a stage of the deal" in answer.content.decode()


def test_a_stale_drop_is_a_409_with_a_message(manager_client, deals, stages):
    door = deals[0]
    assert drop(manager_client, door, stages["Measured"]).status_code == 200
    stale = drop(manager_client, door, stages["Offer"])  # the version the board had
    assert stale.status_code == 409
    assert "Someone moved this deal a moment ago" in stale.content.decode()


def test_someone_who_may_not_change_deals_is_refused(db, deals, stages):
    user_create(email="helpdesk@example.com", password=PASSWORD, role="support")
    client = Client()
    assert log_in(client, "helpdesk@example.com")
    answer = drop(client, deals[0], stages["Measured"])
    assert answer.status_code in (403, 404)
    assert Deal.objects.get(pk=deals[0].pk).stage == stages["Request"]
