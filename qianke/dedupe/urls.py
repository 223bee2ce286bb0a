from django.urls import path

from qianke.dedupe import views

app_name = "dedupe"

urlpatterns = [
    path("duplicates/", views.duplicate_list, name="list"),
    path("duplicates/scan/", views.scan_now, name="scan"),
    path("duplicates/<int:group_id>/", views.group_review, name="review"),
    path("duplicates/<int:group_id>/dismiss/", views.group_dismiss, name="dismiss"),
    path("duplicates/merge/", views.customers_merge, name="merge"),
    path("duplicates/evidence/", views.form_evidence, name="form_evidence"),
    path("customers/<int:customer_id>/duplicates/", views.customer_candidates, name="customer_candidates"),
    path("merges/<int:merge_id>/", views.merge_detail, name="merge_detail"),
    path("merges/<int:merge_id>/undo/", views.merge_undo, name="undo"),
]
