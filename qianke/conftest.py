"""Shared fixtures: factory functions that build real rows through the services."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from qianke.accounts.models import Role
from qianke.accounts.services import api_token_create, team_create, user_create
from qianke.customers.services import contact_create, customer_create

_seq = itertools.count(1)


@pytest.fixture
def home(settings, tmp_path):
    """A QIANKE_HOME of its own (the SQLite file, imports, secrets) in the test's temporary folder."""
    settings.QIANKE_HOME = tmp_path
    return tmp_path


@pytest.fixture
def make_team(db):
    def make(name: str | None = None, parent=None):
        return team_create(name=name or f"团队{next(_seq)}", parent=parent)

    return make


@pytest.fixture
def make_user(db):
    def make(role: str = Role.SALES, team=None, username: str | None = None, password: str = "pw-Qianke-2026"):
        return user_create(username=username or f"user{next(_seq)}", role=role, team=team, password=password,
                           validate=False, full_name=username or "")

    return make


@pytest.fixture
def make_customer(db):
    def make(actor, name: str | None = None, **data):
        data.setdefault("kind", "organization")
        return customer_create(actor=actor, data={"name": name or f"测试客户{next(_seq)}有限公司", **data},
                               confirm_duplicate=True)

    return make


@pytest.fixture
def make_contact(db):
    def make(actor, customer, name: str = "张伟", **data):
        return contact_create(actor=actor, customer_id=customer.pk, data={"name": name, **data})

    return make


@pytest.fixture
def org(make_team, make_user):
    """A small company: sales dept → east team with two reps and a manager, a GM, an info specialist, admin."""
    sales = make_team("销售部")
    east = make_team("华东组", parent=sales)
    north = make_team("华北组", parent=sales)

    class Org:
        pass

    o = Org()
    o.sales, o.east, o.north = sales, east, north
    o.rep = make_user(Role.SALES, east, "rep_east")
    o.rep2 = make_user(Role.SALES, east, "rep_east2")
    o.rep_north = make_user(Role.SALES, north, "rep_north")
    o.manager = make_user(Role.MANAGER, east, "mgr_east")
    o.director = make_user(Role.MANAGER, sales, "mgr_sales")
    o.gm = make_user(Role.GM, None, "gm")
    o.info = make_user(Role.INFO, None, "info")
    o.service = make_user(Role.SERVICE, None, "service")
    o.admin = make_user(Role.ADMIN, None, "admin")
    return o


@pytest.fixture
def token_for(db):
    def make(user) -> str:
        return api_token_create(user=user, name="test")[1]

    return make


@pytest.fixture
def fast_password_hashing(settings):
    """Opt-in (`pytestmark = pytest.mark.usefixtures("fast_password_hashing")`): MD5 instead of PBKDF2,
    so building the `org` fixture's nine users takes milliseconds. Not for tests that hand passwords to
    another process (that process would not know the MD5 hasher)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolate_process_state():
    """Each test starts with the audit source "web" and the default language, even after a test that
    ran the CLI in-process (which sets the source to "cli" and activates the terminal's language)."""
    from django.utils import translation

    from qianke.core.audit import set_audit_source

    set_audit_source("web")
    yield
    set_audit_source("web")
    translation.deactivate()


# --- browser tests -----------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def browser():
    """Debian's chromium driven by Playwright. In CI a missing browser fails the test instead of skipping it."""
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (apt-get install chromium fonts-wqy-microhei)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls in tests stay synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot():
    """screenshot(page, name): a full-page PNG in test-artifacts/ (gitignored) for a person to look at."""

    def take(page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take
