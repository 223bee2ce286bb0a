from django.urls import path

from qianke.pipeline import views

app_name = "pipeline"

urlpatterns = [
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/new/", views.deal_create, name="deal_create"),
    path("deals/board/", views.board, name="board"),
    path("deals/reports/", views.report_page, name="reports"),
    path("deals/stalled/", views.stalled_list, name="stalled"),
    path("deals/<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("customers/<int:customer_id>/deals/", views.customer_deals_panel, name="customer_deals"),
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/tick/", views.deal_tick, name="deal_tick"),
    path("deals/<int:deal_id>/buying-center/", views.member_save, name="member_save"),
    path("deals/<int:deal_id>/buying-center/<int:contact_id>/remove/", views.member_remove, name="member_remove"),
    path("deals/<int:deal_id>/suppliers/", views.supplier_save, name="supplier_save"),
    path("deals/<int:deal_id>/suppliers/<int:supplier_id>/delete/", views.supplier_delete, name="supplier_delete"),
    path("deals/<int:deal_id>/competitors/", views.competitor_link, name="competitor_link"),
    path("deals/<int:deal_id>/competitors/<int:competitor_id>/remove/", views.competitor_unlink,
         name="competitor_unlink"),
    path("deals/<int:deal_id>/value/", views.value_edit, name="value_edit"),
    path("settings/processes/", views.process_settings, name="process_settings"),
    path("settings/processes/<int:process_id>/", views.process_edit, name="process_edit"),
]
