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
    path("deals/<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:deal_id>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:deal_id>/tick/", views.deal_tick, name="deal_tick"),
]
