"""The deal screens through the test client: board, move, deal page, closing, items."""

from django.test import Client

from accord.sales.models import Deal
from accord.sales.services import deal_create


def test_the_board_shows_each_stage_with_its_count_and_cards(manager_client, owner, pipeline):
    deal_create(actor=owner, data={"title": "Three windows", "amount": "900"})
    page = manager_client.get(f"/deals/board/{pipeline.pk}/").content.decode()
    assert "Three windows" in page
    assert "Request" in page and "Measured" in page
    assert manager_client.get("/deals/")["Location"] == f"/deals/board/{pipeline.pk}/"


def test_a_drag_saves_the_move_and_a_stale_drag_is_refused(manager_client, owner, stages):
    deal = deal_create(actor=owner, data={"title": "Door"})
    moved = manager_client.post(
        f"/deals/{deal.pk}/move/", {"stage": stages["Measured"].pk, "version": deal.version}
    )
    assert moved.status_code == 200
    assert f'data-deal="{deal.pk}" data-version="{deal.version + 1}"' in moved.content.decode()
    stale = manager_client.post(
        f"/deals/{deal.pk}/move/", {"stage": stages["Offer"].pk, "version": deal.version}
    )
    assert stale.status_code == 409
    deal.refresh_from_db()
    assert deal.stage == stages["Measured"]


def test_dropping_on_lost_asks_for_the_reason_on_the_deal_page(
    manager_client, owner, stages, too_expensive
):
    deal = deal_create(actor=owner, data={"title": "Roof"})
    answer = manager_client.post(
        f"/deals/{deal.pk}/move/", {"stage": stages["Lost"].pk, "version": deal.version}
    )
    assert answer["HX-Redirect"] == f"/deals/{deal.pk}/?lose=1"
    no_reason = manager_client.post(f"/deals/{deal.pk}/lose/", {"reason": ""}, follow=True)
    assert "Choose why the deal was lost" in no_reason.content.decode()
    manager_client.post(
        f"/deals/{deal.pk}/lose/", {"reason": too_expensive.pk, "note": "Cheaper elsewhere"}
    )
    deal.refresh_from_db()
    assert (deal.status, deal.lost_note) == ("lost", "Cheaper elsewhere")


def test_a_deal_is_created_from_the_form_and_gets_items(manager_client, owner, pipeline):
    response = manager_client.post(
        "/deals/new/",
        {"title": "Balcony", "pipeline": pipeline.pk, "currency": "EUR", "owner": owner.pk},
    )
    deal = Deal.objects.get()
    assert response["Location"] == f"/deals/{deal.pk}/"
    manager_client.post(
        f"/deals/{deal.pk}/item/", {"name": "Glass", "quantity": "2", "unit_price": "50"}
    )
    deal.refresh_from_db()
    assert deal.amount == 100
    bad = manager_client.post(
        f"/deals/{deal.pk}/item/",
        {"name": "Glass", "quantity": "-2", "unit_price": "50"},
        follow=True,
    )
    assert "Enter a number from" in bad.content.decode()
    page = manager_client.get(f"/deals/{deal.pk}/").content.decode()
    assert "Glass" in page and "created this deal" in page


def test_someone_elses_deal_is_not_found_by_a_manager_of_another_team(owner, pipeline, db):
    from django.test import Client

    from accord.accounts.services import user_create
    from tests.conftest import PASSWORD, log_in

    rival = user_create(email="rival@example.com", password=PASSWORD, role="manager")
    deal = deal_create(actor=rival, data={"title": "Theirs"})
    client = Client()
    log_in(client, owner.email)
    assert client.get(f"/deals/{deal.pk}/").status_code == 404
    assert client.post(f"/deals/{deal.pk}/win/").status_code == 404
    deal.refresh_from_db()
    assert deal.status == "open"


def test_the_funnel_report_shows_entries_conversion_and_skipped_stages(
    manager_client, owner, stages
):
    from accord.sales.services import deal_move, deal_win

    for title in ["A", "B"]:
        deal = deal_create(actor=owner, data={"title": title})
        deal_win(actor=owner, deal=deal_move(actor=owner, deal=deal, stage=stages["Offer"]))
    page = manager_client.get(
        f"/reports/funnel/?pipeline={stages['Offer'].pipeline_id}"
    ).content.decode()
    assert "always skipped" in page  # nobody went through "Measured"
    assert "100 %" in page  # every deal won
    assert manager_client.get("/reports/funnel/?from=garbage").status_code == 200


def test_a_role_without_reports_does_not_find_them(db):
    from django.test import Client

    from accord.accounts.models import Role
    from accord.accounts.services import user_create
    from tests.conftest import PASSWORD, log_in

    Role.objects.filter(slug="support").update(
        access={"reports": {"read": "none", "write": "none"}}
    )
    user_create(email="helpdesk@example.com", password=PASSWORD, role="support")
    client = Client()
    log_in(client, "helpdesk@example.com")
    for page in (
        "/reports/",
        "/reports/funnel/",
        "/reports/all/",
        "/reports/r/sales/",
        "/reports/pdf/",
    ):
        assert client.get(page).status_code == 404, page
    assert client.get("/api/v1/reports/sales").status_code in (401, 404)
    assert 'href="/reports/"' not in client.get("/").content.decode()


def test_the_deal_list_filters_sorts_and_pages(manager_client, owner, pipeline, stages):
    from accord.sales.services import deal_win

    for index in range(3):
        deal = deal_create(
            actor=owner, data={"title": f"Deal {index}", "amount": str(100 * (index + 1))}
        )
    deal_win(actor=owner, deal=deal)
    page = manager_client.get("/deals/list/?status=won").content.decode()
    assert "Deal 2" in page and "Deal 0" not in page
    page = manager_client.get("/deals/list/?sort=-amount").content.decode()
    assert page.index("Deal 2") < page.index("Deal 1") < page.index("Deal 0")
    bad = manager_client.get("/deals/list/?close_from=soon").content.decode()
    assert "Enter a date as YYYY-MM-DD" in bad


def test_the_board_filters_by_owner_and_title(manager_client, owner, admin, pipeline):
    deal_create(actor=owner, data={"title": "Mine to do"})
    deal_create(actor=admin, data={"title": "Admin's"})
    page = manager_client.get(f"/deals/board/{pipeline.pk}/?owner=me").content.decode()
    assert "Mine to do" in page and "Admin&#x27;s" not in page
    page = manager_client.get(f"/deals/board/{pipeline.pk}/?q=admin").content.decode()
    assert "Mine to do" not in page


def _cards_and_more(html: str) -> tuple[list[str], str | None]:
    import re
    from html import unescape

    titles = re.findall(r'class="deal-card-title" href="[^"]+">([^<]+)</a>', html)
    more = re.search(r'class="board-loader" hx-get="([^"]+)"', html)
    return titles, unescape(more.group(1)) if more else None


def test_a_long_column_loads_its_cards_fifty_at_a_time_as_it_is_scrolled(
    manager_client, owner, admin, pipeline
):
    for number in range(120):
        deal_create(actor=owner, data={"title": f"Window {number:03}"})
    deal_create(actor=admin, data={"title": "Someone else's"})
    titles, more = _cards_and_more(
        manager_client.get(f"/deals/board/{pipeline.pk}/?owner=me").content.decode()
    )
    assert len(titles) == 50 and more and "owner=me" in more
    seen = list(titles)
    while more:
        titles, more = _cards_and_more(manager_client.get(more).content.decode())
        seen += titles
    assert len(seen) == 120 and len(set(seen)) == 120  # every card once, none of admin's
    ranked = Deal.objects.filter(owner=owner).order_by("board_rank", "id")
    assert seen == [deal.title for deal in ranked]
    bad = manager_client.get(f"/deals/board/{pipeline.pk}/{ranked[0].stage_id}/cards/?cursor=x")
    assert bad.status_code == 400


def test_the_board_shows_the_deals_of_a_segment_of_clients(manager_client, owner, pipeline):
    from accord.contacts.services import person_create, segment_save

    moscow = person_create(actor=owner, data={"first_name": "Anna", "city": "Moscow"})
    yerevan = person_create(actor=owner, data={"first_name": "Aram", "city": "Yerevan"})
    deal_create(actor=owner, data={"title": "Moscow windows", "person": moscow})
    deal_create(actor=owner, data={"title": "Yerevan doors", "person": yerevan})
    segment = segment_save(
        actor=owner, name="Muscovites", record_type="person", filters={"city": "Moscow"}
    )
    page = manager_client.get(f"/deals/board/{pipeline.pk}/?segment={segment.pk}").content
    assert b"Moscow windows" in page and b"Yerevan doors" not in page
    page = manager_client.get(f"/deals/list/?segment={segment.pk}").content
    assert b"Moscow windows" in page and b"Yerevan doors" not in page
    page = manager_client.get(f"/deals/board/{pipeline.pk}/?segment=999").content.decode()
    assert "There is no such segment." in page and "Moscow windows" not in page


def test_the_deal_form_picks_a_client_by_search_not_from_a_list_of_everyone(
    manager_client, owner, admin, pipeline
):
    from accord.accounts.models import Role
    from accord.accounts.services import role_save, user_create
    from accord.contacts.services import person_create
    from accord.core.visibility import RECORD_TYPES
    from tests.conftest import PASSWORD, log_in

    email = [{"address": "anna@example.com"}]
    anna = person_create(
        actor=owner, data={"first_name": "Anna", "last_name": "Petrova", "emails": email}
    )
    person_create(actor=owner, data={"first_name": "Boris", "last_name": "Annenkov"})
    person_create(actor=admin, data={"first_name": "Annabel", "last_name": "Admin's"})
    form = manager_client.get("/deals/new/").content.decode()
    assert "Petrova" not in form and "Boris" not in form  # the select holds the choice only
    assert "Anna Petrova" in manager_client.get(f"/deals/new/?person={anna.pk}").content.decode()

    options = manager_client.get("/clients/people/pick/?q=ann&empty=Nobody").content.decode()
    assert ">Anna Petrova · anna@example.com</option>" in options  # namesakes told apart
    assert options.count(" selected>") == 1  # the best match is chosen
    assert "Annenkov" in options and "Annabel" in options and ">Nobody<" in options
    assert manager_client.get("/clients/people/pick/?q=a").status_code == 204  # keep as is
    assert "Nothing found" in manager_client.get("/clients/people/pick/?q=zzz").content.decode()

    access = {kind: {"read": "own", "write": "own"} for kind in RECORD_TYPES}
    role_save(actor=admin, name="Own only", access=access, capabilities=[])
    user_create(
        email="own@example.com", password=PASSWORD, role=Role.objects.get(name="Own only").slug
    )
    own = Client()
    assert log_in(own, "own@example.com")
    assert "Annabel" not in own.get("/clients/people/pick/?q=ann").content.decode()

    manager_client.post("/deals/new/", {"title": "Windows for Anna", "person": anna.pk,
                                        "pipeline": pipeline.pk, "currency": "EUR"})  # fmt: skip
    assert Deal.objects.get(title="Windows for Anna").person == anna


def test_deals_have_custom_fields_and_tags_in_the_form_on_the_page_and_in_the_timeline(
    admin_client, manager_client, owner, pipeline
):
    admin_client.post("/settings/fields/deal/new/", {"label": "Glass", "type": "choice",
                                                     "choices": "double\ntriple"})  # fmt: skip
    admin_client.post("/settings/fields/deal/new/", {"label": "Floors", "type": "number"})
    assert "Glass" in admin_client.get("/settings/fields/").content.decode()
    form = manager_client.get("/deals/new/").content.decode()
    assert 'name="cf_glass"' in form and 'name="tags"' in form
    base = {"title": "Tower", "pipeline": pipeline.pk, "currency": "EUR", "owner": owner.pk}
    refused = manager_client.post("/deals/new/", {**base, "cf_floors": "many"})
    assert refused.status_code == 200 and not Deal.objects.exists()
    manager_client.post("/deals/new/", {**base, "cf_glass": "double", "tags": "vip, tower"})
    deal = Deal.objects.get()
    assert deal.custom_fields == {"glass": "double"}
    assert sorted(tag.name for tag in deal.tags.all()) == ["tower", "vip"]
    edit = manager_client.get(f"/deals/{deal.pk}/edit/").content.decode()
    assert 'value="vip, tower"' in edit or 'value="tower, vip"' in edit
    manager_client.post(f"/deals/{deal.pk}/edit/", {**base, "cf_glass": "triple", "tags": "vip",
                                                    "version": deal.version})  # fmt: skip
    page = manager_client.get(f"/deals/{deal.pk}/").content.decode()
    assert "<dt>Glass</dt><dd>triple</dd>" in page
    assert 'class="change-field">Glass</span>: <span class="change-old">double</span>' in page
    assert manager_client.get("/deals/list/?tag=vip").content.decode().count("Tower") >= 1


def test_the_deal_list_shows_the_columns_a_user_chose(manager_client, owner, admin, pipeline):
    from accord.core.services import custom_field_save

    custom_field_save(actor=admin, record_type="deal", label="Floors", type="number")
    deal_create(
        actor=owner,
        data={"title": "Tower", "source": "fair", "tags": ["vip"], "custom_fields": {"floors": 12}},
    )
    page = manager_client.get("/deals/list/").content.decode()
    assert '<th scope="col">Expected close</th>' in page and ">fair<" not in page
    manager_client.post(
        "/deals/columns/", {"columns": ["source", "tags", "cf:floors", "x"], "query": "status=open"}
    )
    owner.refresh_from_db()
    assert owner.preferences["columns"]["deal"] == ["source", "tags", "cf:floors"]
    page = manager_client.get("/deals/list/?status=open").content.decode()
    assert ">fair<" in page and ">vip<" in page and ">12<" in page
    assert '<th scope="col">Expected close</th>' not in page


def test_a_deal_list_filter_is_kept_as_a_segment_of_deals(manager_client, owner, pipeline):
    from accord.contacts.models import Segment

    deal_create(actor=owner, data={"title": "Big tower", "tags": ["vip"]})
    deal_create(actor=owner, data={"title": "Small shed"})
    response = manager_client.post(
        "/deals/segments/", {"name": "VIP deals", "filters": "tag=vip&status=open"}
    )
    segment = Segment.objects.get(name="VIP deals")
    assert (segment.record_type, segment.filters) == ("deal", {"tag": "vip", "status": "open"})
    page = manager_client.get(response["Location"]).content.decode()
    assert "Big tower" in page and "Small shed" not in page and "VIP deals" in page
    board = manager_client.get(f"/deals/board/{pipeline.pk}/").content.decode()
    assert "VIP deals" not in board  # the board's segment filter offers client segments only
    refused = manager_client.post(
        "/deals/segments/", {"name": "Bad", "filters": "colour=red"}, follow=True
    )
    assert "There is no filter colour." in refused.content.decode()
    manager_client.post(f"/deals/segments/{segment.pk}/remove/")
    assert not Segment.objects.exists()
