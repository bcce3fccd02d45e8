from django.urls import path

from accord.sales import settings_views, views

urlpatterns = [
    path("deals/", views.deals_home, name="deals"),
    path("deals/board/<int:pipeline_id>/", views.deal_board, name="deal_board"),
    path(
        "deals/board/<int:pipeline_id>/<int:stage_id>/cards/",
        views.deal_board_cards,
        name="deal_board_cards",
    ),
    path("deals/new/", views.deal_new, name="deal_new"),
    path("deals/list/", views.deal_list, name="deal_list"),
    path("deals/bulk/", views.deal_bulk, name="deal_bulk"),
    path("deals/of-client/", views.client_deals_panel, name="client_deals"),
    path("deals/pick/", views.deal_pick, name="deal_pick"),
    path("deals/columns/", views.choose_columns, name="deal_columns"),
    path("deals/segments/", views.deal_segment_create, name="deal_segment_create"),
    path(
        "deals/segments/<int:segment_id>/remove/",
        views.deal_segment_remove,
        name="deal_segment_remove",
    ),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/move/", views.deal_move_view, name="deal_move"),
    path("deals/<int:pk>/stages/", views.deal_stage_menu, name="deal_stage_menu"),
    path("deals/<int:pk>/timeline/", views.deal_timeline, name="deal_timeline"),
    path("deals/<int:pk>/<str:action>/", views.deal_action, name="deal_action"),
]

urlpatterns += [
    path("settings/pipelines/", settings_views.pipelines, name="settings_pipelines"),
    path("settings/pipelines/new/", settings_views.pipeline_action, name="pipeline_new"),
    path(
        "settings/pipelines/<int:pipeline_id>/",
        settings_views.pipeline_action,
        name="pipeline_action",
    ),
    path("settings/stages/<int:stage_id>/", settings_views.stage_edit, name="stage_edit"),
    path(
        "settings/stages/<int:stage_id>/action/", settings_views.stage_action, name="stage_action"
    ),
    path("settings/lost-reasons/new/", settings_views.reason_action, name="reason_new"),
    path(
        "settings/lost-reasons/<int:reason_id>/", settings_views.reason_action, name="reason_action"
    ),
    path("settings/products/", settings_views.products, name="settings_products"),
    path("settings/products/new/", settings_views.product_edit, name="product_new"),
    path("settings/products/<int:product_id>/", settings_views.product_edit, name="product_edit"),
    path(
        "settings/price-lists/<int:price_list_id>/",
        settings_views.price_list_edit,
        name="price_list_edit",
    ),
    path(
        "settings/discounts/<int:rule_id>/retirement/",
        settings_views.discount_rule_retire,
        name="discount_rule_retire",
    ),
]
