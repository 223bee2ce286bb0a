"""Django settings for Qianke.

Configuration comes from the environment:
- QIANKE_HOME: data folder (default ~/.qianke): SQLite database, secret key, uploads.
- QIANKE_DATABASE_URL: e.g. postgresql://user@127.0.0.1:5432/qianke; SQLite in QIANKE_HOME when unset.
- QIANKE_DEBUG, QIANKE_ALLOWED_HOSTS, QIANKE_SECRET_KEY.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
QIANKE_HOME = Path(os.environ.get("QIANKE_HOME", "~/.qianke")).expanduser()
QIANKE_HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Read the key from the environment or QIANKE_HOME; generate it there on first start."""
    if key := os.environ.get("QIANKE_SECRET_KEY"):
        return key
    key_file = QIANKE_HOME / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("QIANKE_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("QIANKE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("QIANKE_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves Swagger UI from its own static files, not a CDN
    "qianke.core",
    "qianke.accounts",
    "qianke.customers",
    "qianke.activities",
    "qianke.jobs",
    "qianke.leads",
    "qianke.qualification",
    "qianke.pool",
    "qianke.pipeline",
    "qianke.dataio",
    "qianke.dedupe",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "qianke.urls"
WSGI_APPLICATION = "qianke.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "qianke.core.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("QIANKE_DATABASE_URL", "")
    if url:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        # Tests against PostgreSQL create test_<name>; keep it next to the configured database.
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("QIANKE_SQLITE_PATH", str(QIANKE_HOME / "qianke.sqlite3")),
        "OPTIONS": {
            # IMMEDIATE: a write transaction takes the lock at BEGIN, so concurrent writers queue
            # instead of failing with "database is locked" half-way through.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;PRAGMA cache_size=-64000;PRAGMA mmap_size=268435456;"
            ),
        },
        "TEST": {"NAME": os.environ.get("QIANKE_SQLITE_TEST_PATH") or None},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("QIANKE_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
FORMAT_MODULE_PATH = ["qianke.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = QIANKE_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve straight from the app folders: no collectstatic step is needed to run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("QIANKE_LOG_LEVEL", "WARNING")},
}

# Page sizes: every list is bounded.
QIANKE_PAGE_SIZE = 25
QIANKE_MAX_PAGE_SIZE = 200

# Customer lifecycle: new and repeat customers without a purchase for this many days become dormant.
QIANKE_DORMANT_AFTER_DAYS = int(os.environ.get("QIANKE_DORMANT_AFTER_DAYS", "365"))
