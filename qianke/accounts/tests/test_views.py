"""Log-in, log-out, the language switcher and the error pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def test_login_page_is_chinese_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-CN">' in body
    assert 'name="username"' in body and 'name="password"' in body
    assert "/static/qianke/app.css" in body and "/static/qianke/vendor/htmx.min.js" in body
    assert "http://" not in body.split("<body")[0] and "https://" not in body.split("<body")[0]  # no CDN


def test_login_and_logout(client, org):
    response = client.post(reverse("login"), {"username": "rep_east", "password": "pw-Qianke-2026"})
    assert response.status_code == 302 and response.url == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200 and "rep_east" in home.content.decode()
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_shows_an_error(client, org):
    response = client.post(reverse("login"), {"username": "rep_east", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert 'value="rep_east"' in response.content.decode()


def test_login_redirects_to_next(client, org):
    target = reverse("customers:list")
    response = client.post(
        reverse("login") + f"?next={target}",
        {"username": "rep_east", "password": "pw-Qianke-2026", "next": target},
    )
    assert response.url == target


def test_language_switcher_to_english_and_back(client, org):
    client.force_login(org.rep)
    page = client.get(reverse("customers:list")).content.decode()
    assert reverse("set_language") in page and 'value="en"' in page
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("customers:list")})
    assert response.status_code == 302 and response.url == reverse("customers:list")
    assert '<html lang="en">' in client.get(reverse("customers:list")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-CN">' in client.get(reverse("home")).content.decode()


def test_admin_link_only_for_administrators(client, org):
    client.force_login(org.rep)
    assert reverse("custom_fields") not in client.get(reverse("home")).content.decode()
    client.force_login(org.admin)
    assert reverse("custom_fields") in client.get(reverse("home")).content.decode()


def test_forbidden_action_renders_our_403_page(client, org):
    client.force_login(org.rep)
    response = client.get(reverse("custom_fields"))
    assert response.status_code == 403
    assert 'class="topbar"' in response.content.decode()
