from django.urls import path

from qianke.customers import lifecycle_views, views

app_name = "customers"

urlpatterns = [
    path("customers/", views.customer_list, name="list"),
    path("customers/new/", views.customer_edit, name="create"),
    path("customers/<int:customer_id>/", views.customer_detail, name="detail"),
    path("customers/<int:customer_id>/edit/", views.customer_edit, name="edit"),
    path("customers/<int:customer_id>/archive/", views.customer_archive, name="archive"),
    path("customers/<int:customer_id>/restore/", views.customer_restore, name="restore"),
    path("customers/<int:customer_id>/transition/", lifecycle_views.customer_transition, name="transition"),
    path("customers/<int:customer_id>/contacts/new/", views.contact_edit, name="contact_create"),
    path("contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:contact_id>/archive/", views.contact_archive, name="contact_archive"),
]
