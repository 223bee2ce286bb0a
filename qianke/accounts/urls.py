from django.urls import include, path

from qianke.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Home page and site settings (qianke.core) are mounted here: qianke/urls.py includes only the apps.
    path("", include("qianke.core.urls")),
]
