from django.urls import path

from qianke.dataio import views

app_name = "dataio"

urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/upload/", views.import_upload, name="import_upload"),
    path("imports/draft/<str:token>/", views.import_mapping, name="import_mapping"),
    path("imports/<int:import_id>/", views.import_detail, name="import_detail"),
    path("imports/<int:import_id>/rejects/", views.import_rejects, name="import_rejects"),
    path("imports/<int:import_id>/undo/", views.import_undo, name="import_undo"),
    path("imports/<int:import_id>/continue/", views.import_continue, name="import_continue"),
    path("imports/templates/<str:key>.xlsx", views.import_template, name="import_template"),
    path("customers/export/", views.customer_export, name="customer_export"),
]
