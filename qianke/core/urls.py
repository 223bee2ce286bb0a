from django.urls import path

from qianke.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/custom-fields/", views.custom_field_list, name="custom_fields"),
    path("settings/custom-fields/new/", views.custom_field_edit, name="custom_field_create"),
    path("settings/custom-fields/<int:field_id>/", views.custom_field_edit, name="custom_field_edit"),
    path(
        "settings/custom-fields/<int:field_id>/deactivate/",
        views.custom_field_set_active,
        {"active": False},
        name="custom_field_deactivate",
    ),
    path(
        "settings/custom-fields/<int:field_id>/activate/",
        views.custom_field_set_active,
        {"active": True},
        name="custom_field_activate",
    ),
]
