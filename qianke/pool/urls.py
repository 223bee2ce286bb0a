from django.urls import path

from qianke.pool import views

app_name = "pool"

urlpatterns = [
    path("pool/", views.pool_list, name="list"),
    path("pool/customers/<int:customer_id>/claim/", views.claim, name="claim"),
    path("pool/customers/<int:customer_id>/assign/", views.assign, name="assign"),
    path("customers/<int:customer_id>/owner-history/", views.owner_history_fragment, name="owner_history"),
    path("customers/<int:customer_id>/release/", views.release, name="release"),
    path("customers/<int:customer_id>/transfer/", views.transfer, name="transfer"),
    path("settings/pools/", views.pool_settings, name="settings"),
    path("settings/pools/new/", views.pool_edit, name="create"),
    path("settings/pools/<int:pool_id>/", views.pool_edit, name="edit"),
]
