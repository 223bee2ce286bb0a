from django.urls import path

from qianke.activities import views

app_name = "activities"

urlpatterns = [
    path("customers/<int:customer_id>/follow-ups/new/", views.activity_edit, name="create"),
    path("follow-ups/<int:activity_id>/edit/", views.activity_edit, name="edit"),
    path("follow-ups/<int:activity_id>/archive/", views.activity_archive, name="archive"),
    path("follow-ups/<int:activity_id>/done/", views.activity_done, name="done"),
]
