from django.urls import path

from qianke.jobs import views

urlpatterns = [
    path("settings/jobs/", views.job_list, name="jobs"),
    path("settings/jobs/<str:name>/run/", views.job_run_now, name="job_run_now"),
]
