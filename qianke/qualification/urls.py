from django.urls import path

from qianke.qualification import views

app_name = "qualification"

urlpatterns = [
    path("qualification/due/", views.due_list, name="due"),
    path("qualification/settings/", views.grading_settings, name="settings"),
    path("qualification/ideal-profile/", views.ideal_profile_settings, name="ideal_profile"),
    path("customers/<int:customer_id>/value/", views.value_edit, name="value_edit"),
    path("customers/<int:customer_id>/qualification/", views.qualification_edit, name="edit"),
    path("customers/<int:customer_id>/qualification/stop/", views.stop_contacting, name="stop"),
    path("customers/<int:customer_id>/qualification/resume/", views.resume_contacting, name="resume"),
]
