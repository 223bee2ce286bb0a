from django.urls import path

from qianke.leads import views

app_name = "leads"

urlpatterns = [
    path("customers/<int:customer_id>/origin/", views.origin_edit, name="origin_edit"),
    path("customers/<int:customer_id>/origin/introducers/", views.introducer_search, name="introducer_search"),
    path("customers/<int:customer_id>/origin/introducer/", views.introducer_pick, name="introducer_pick"),
    path("customers/<int:customer_id>/referrals/", views.referral_tree, name="referral_tree"),
    path("reports/sources/", views.source_report, name="source_report"),
    path("settings/sources/", views.source_settings, name="source_settings"),
    path("settings/sources/<int:source_id>/", views.source_edit, name="source_edit"),
    path("settings/sources/<int:source_id>/deactivate/", views.source_set_active, {"active": False},
         name="source_deactivate"),
    path("settings/sources/<int:source_id>/activate/", views.source_set_active, {"active": True},
         name="source_activate"),
]
