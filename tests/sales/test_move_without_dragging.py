"""A deal changes stage without dragging: the stage path on its page and the "move to"
menu of its board card, both plain forms a keyboard reaches."""

from accord.accounts.services import user_create
from accord.sales.models import Deal
from accord.sales.services import deal_create
from tests.conftest import PASSWORD


def test_the_stage_path_moves_the_deal_and_says_so(manager_client, owner, stages):
    deal = deal_create(actor=owner, data={"title": "Kitchen"})
    page = manager_client.get(f"/deals/{deal.pk}/").content.decode()
    assert f'name="stage" value="{stages["Measured"].pk}"' in page
    assert f'name="stage" value="{stages["Request"].pk}"' not in page  # where it is now

    moved = manager_client.post(
        f"/deals/{deal.pk}/stage/", {"stage": stages["Measured"].pk, "version": deal.version}
    )
    assert moved.status_code == 302 and moved["Location"] == f"/deals/{deal.pk}/"
    deal.refresh_from_db()
    assert deal.stage == stages["Measured"]
    assert "is now in Measured" in manager_client.get(moved["Location"]).content.decode()


def test_a_stale_page_moves_nothing_and_lost_asks_why(manager_client, owner, stages):
    deal = deal_create(actor=owner, data={"title": "Kitchen"})
    stale = manager_client.post(
        f"/deals/{deal.pk}/stage/", {"stage": stages["Offer"].pk, "version": deal.version + 5},
        follow=True,
    )  # fmt: skip
    assert "Someone changed this deal" in stale.content.decode()
    assert Deal.objects.get().stage == stages["Request"]
    lost = manager_client.post(
        f"/deals/{deal.pk}/stage/", {"stage": stages["Lost"].pk, "version": deal.version}
    )
    assert lost["Location"] == f"/deals/{deal.pk}/?lose=1"
    assert Deal.objects.get().status == "open"
    won = manager_client.post(
        f"/deals/{deal.pk}/stage/",
        {"stage": stages["Won"].pk, "version": deal.version, "next": "https://evil.example/"},
    )
    assert won["Location"] == f"/deals/{deal.pk}/"  # never to another site
    assert Deal.objects.get().status == "won"


def test_the_board_cards_menu_lists_the_stages_and_brings_the_user_back(
    manager_client, owner, pipeline, stages
):
    deal = deal_create(actor=owner, data={"title": "Kitchen"})
    board = manager_client.get(f"/deals/board/{pipeline.pk}/").content.decode()
    assert f'hx-get="/deals/{deal.pk}/stages/"' in board
    menu = manager_client.get(
        f"/deals/{deal.pk}/stages/",
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver/deals/board/{pipeline.pk}/?owner=me"},
    ).content.decode()  # fmt: skip
    assert "Measured" in menu and "disabled" in menu
    back = manager_client.post(
        f"/deals/{deal.pk}/stage/",
        {"stage": stages["Offer"].pk, "version": deal.version,
         "next": f"http://testserver/deals/board/{pipeline.pk}/?owner=me"},
    )  # fmt: skip
    assert back["Location"].endswith(f"/deals/board/{pipeline.pk}/?owner=me")
    assert Deal.objects.get().stage == stages["Offer"]


def test_someone_who_may_not_change_the_deal_gets_no_buttons(client, owner, stages):
    deal = deal_create(actor=owner, data={"title": "Kitchen"})
    user_create(email="viewer@example.com", password=PASSWORD, role="read-only")
    client.post("/login/", {"username": "viewer@example.com", "password": PASSWORD})
    assert "may not move" in client.get(f"/deals/{deal.pk}/stages/").content.decode()
    refused = client.post(f"/deals/{deal.pk}/stage/", {"stage": stages["Offer"].pk,
                                                       "version": deal.version})  # fmt: skip
    assert refused.status_code in (302, 404)
    assert Deal.objects.get().stage == stages["Request"]


def test_names_inside_a_hebrew_sentence_are_isolated(manager_client, owner, stages):
    deal = deal_create(actor=owner, data={"title": "Окна Иван Петров"})
    manager_client.post(f"/deals/{deal.pk}/stage/",
                        {"stage": stages["Measured"].pk, "version": deal.version})  # fmt: skip
    manager_client.post("/i18n/setlang/", {"language": "he"})
    page = manager_client.get(f"/deals/{deal.pk}/").content.decode()
    assert '<html lang="he" dir="rtl"' in page
    assert "<bdi>Request</bdi>" in page and "<bdi>Measured</bdi>" in page
    assert "<strong><bdi>Olivia Owner</bdi></strong>" in page
