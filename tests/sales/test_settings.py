"""Settings → Pipelines and Products, as an administrator uses them."""

from accord.catalog.models import Product
from accord.sales.models import LostReason, Pipeline, Stage
from accord.sales.services import deal_create


def test_an_admin_creates_a_pipeline_that_starts_with_the_usual_stages(admin_client):
    admin_client.post("/settings/pipelines/new/", {"action": "create", "name": "Installation"})
    pipeline = Pipeline.objects.get(name="Installation")
    kinds = [s.kind for s in pipeline.stages.all()]
    assert kinds.count("won") == 1 and kinds.count("lost") == 1 and kinds[0] == "open"


def test_stages_are_added_before_won_and_lost_renamed_and_reordered(admin_client, pipeline):
    admin_client.post(
        f"/settings/pipelines/{pipeline.pk}/", {"action": "add-stage", "name": "Survey"}
    )
    names = [s.name for s in pipeline.stages.order_by("position")]
    assert names == ["Request", "Measured", "Offer", "Survey", "Won", "Lost"]
    survey = Stage.objects.get(name="Survey")
    admin_client.post(f"/settings/stages/{survey.pk}/action/", {"action": "up"})
    names = [s.name for s in pipeline.stages.order_by("position")]
    assert names == ["Request", "Measured", "Survey", "Offer", "Won", "Lost"]
    response = admin_client.post(
        f"/settings/stages/{survey.pk}/",
        {"name": "Site survey", "color": "#ff0000", "probability": "150"},
    )
    assert "Ensure this value is less than or equal to 100" in response.content.decode()
    admin_client.post(
        f"/settings/stages/{survey.pk}/",
        {"name": "Site survey", "color": "#ff0000", "probability": "55", "rotting_days": "4"},
    )
    survey.refresh_from_db()
    assert (survey.name, survey.probability, survey.rotting_days) == ("Site survey", 55, 4)


def test_retiring_a_stage_with_deals_needs_a_stage_for_them(admin_client, owner, stages):
    deal = deal_create(actor=owner, data={"title": "Gate"})
    admin_client.post(f"/settings/stages/{stages['Request'].pk}/action/", {"action": "retire"})
    assert not Stage.objects.get(pk=stages["Request"].pk).retired
    admin_client.post(
        f"/settings/stages/{stages['Request'].pk}/action/",
        {"action": "retire", "move_to": stages["Offer"].pk},
    )
    deal.refresh_from_db()
    assert deal.stage == stages["Offer"]


def test_lost_reasons_are_added_and_retired(admin_client, db):
    admin_client.post("/settings/lost-reasons/new/", {"name": "Moved abroad"})
    reason = LostReason.objects.get(name="Moved abroad")
    admin_client.post(f"/settings/lost-reasons/{reason.pk}/", {"action": "retire"})
    reason.refresh_from_db()
    assert reason.retired


def test_products_are_added_with_a_valid_price_and_currency(admin_client, manager_client):
    bad = admin_client.post(
        "/settings/products/new/",
        {
            "name": "Sill",
            "kind": "product",
            "price": "abc",
            "currency": "EUR",
            "unit": "m",
            "active": "on",
        },
    )
    assert "Enter a number" in bad.content.decode()
    admin_client.post(
        "/settings/products/new/",
        {
            "name": "Sill",
            "kind": "product",
            "price": "12.50",
            "currency": "eur",
            "unit": "m",
            "active": "on",
        },
    )
    product = Product.objects.get()
    assert (product.price, product.currency) == (12.5, "EUR")
    assert manager_client.get("/settings/products/").status_code == 404
