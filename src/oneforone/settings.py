"""One settings module, driven by environment variables.

DATABASE_URL      PostgreSQL to use; unset: the embedded server in ONEFORONE_DATA_DIR (./.oneforone)
SECRET_KEY        required when ONEFORONE_ENV=production; otherwise generated once into the data folder
ONEFORONE_DEVICE_KEY  key of the device identifiers' keyed hash; required when ONEFORONE_ENV=production,
                  otherwise derived from SECRET_KEY. Never change it once devices are registered.
ONEFORONE_WEBHOOK_KEYS  comma-separated Fernet keys that encrypt webhook signing secrets at rest; the
                  first encrypts, all decrypt (rotation); unset: one key derived from the device key
ONEFORONE_WEBHOOK_ALLOW_PRIVATE  "1": webhook URLs may point at private or loopback addresses
                  (default outside production only)
ONEFORONE_ENV     "production" or "development" (default)
ALLOWED_HOSTS     comma-separated, default "localhost,127.0.0.1,[::1]"
ONEFORONE_TASKS   "immediate" runs background tasks inline (tests); default: the database queue
ONEFORONE_RATE_LIMITS  per-scope overrides, e.g. "verify-device=30/minute,login=10/15minutes"
ONEFORONE_TRUST_X_FORWARDED_FOR  "1": the client is the first X-Forwarded-For address (behind a
                  proxy that sets it); default: REMOTE_ADDR
EMAIL_HOST (EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS, DEFAULT_FROM_EMAIL)
                  SMTP server for e-mails; unset: e-mails are printed on the console
MEDIA_ROOT        where uploaded files are kept; default: the data folder's media/
UPLOAD_MAX_BYTES  largest registrations file accepted, in bytes; default 200000000 (200 MB)
UPLOAD_MAX_ROWS   most lines in one registrations file; default 1000000
UPLOAD_CHUNK_DEVICES  devices committed at a time by an "accept the valid rows" upload (its
                  resume checkpoint); default 100000
ONEFORONE_DOCUMENT_RETENTION_YEARS  years shipment documents are kept after completion; default
                  and minimum 5 (Regulation (EU) 2024/1157)
ONEFORONE_ATTACHMENT_MAX_BYTES  largest attachment (signed scan) accepted; default 10000000
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from decimal import Decimal
from pathlib import Path

import dj_database_url

from oneforone import embedded_db

BASE_DIR = Path(__file__).resolve().parent
ENVIRONMENT = os.environ.get("ONEFORONE_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = os.environ.get("DEBUG", "0") == "1" and not PRODUCTION


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when ONEFORONE_ENV=production")
    key_file = embedded_db.data_dir() / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _device_identifier_key() -> str:
    """The HMAC key of stored device identifiers (IMEI, serial). Changing it makes every stored
    hash unmatchable (a second claim of a device would go unnoticed), so production sets it
    explicitly and keeps it, apart from SECRET_KEY, which may be rotated."""
    if key := os.environ.get("ONEFORONE_DEVICE_KEY"):
        return key
    if PRODUCTION:
        raise RuntimeError("ONEFORONE_DEVICE_KEY must be set when ONEFORONE_ENV=production")
    return hmac.new(
        SECRET_KEY.encode(), b"oneforone.device-identifiers", hashlib.sha256
    ).hexdigest()


DEVICE_IDENTIFIER_KEY = _device_identifier_key()


def _webhook_secret_keys() -> list[str]:
    """Fernet keys of the stored webhook secrets. Derived from the device key, which production
    keeps stable, so that rotating SECRET_KEY does not make the stored secrets unreadable."""
    if keys := os.environ.get("ONEFORONE_WEBHOOK_KEYS"):
        return [k.strip() for k in keys.split(",") if k.strip()]
    digest = hmac.new(
        DEVICE_IDENTIFIER_KEY.encode(), b"oneforone.webhook-secrets", hashlib.sha256
    ).digest()
    return [base64.urlsafe_b64encode(digest).decode()]


WEBHOOK_SECRET_KEYS = _webhook_secret_keys()


def _personal_data_keys() -> list[str]:
    """Fernet keys of collectors' personal data: the first encrypts, all decrypt (rotation)."""
    if keys := os.environ.get("ONEFORONE_PERSONAL_DATA_KEYS"):
        return [k.strip() for k in keys.split(",") if k.strip()]
    digest = hmac.new(
        DEVICE_IDENTIFIER_KEY.encode(), b"oneforone.personal-data", hashlib.sha256
    ).digest()
    return [base64.urlsafe_b64encode(digest).decode()]


PERSONAL_DATA_KEYS = _personal_data_keys()
WEBHOOK_ALLOW_PRIVATE_URLS = os.environ.get(
    "ONEFORONE_WEBHOOK_ALLOW_PRIVATE", "0" if PRODUCTION else "1"
).lower() in {"1", "true", "yes"}
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django_tasks_db",
    "oneforone.core",
    "oneforone.accounts",
    "oneforone.partners",
    "oneforone.webhooks",
    "oneforone.collection",
    "oneforone.shipments",
    "oneforone.recycling",
    "oneforone.registry",
    "oneforone.impact",
    "oneforone.reporting",
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

ROOT_URLCONF = "oneforone.urls"
WSGI_APPLICATION = "oneforone.wsgi.application"

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
                "oneforone.accounts.context_processors.membership",
            ],
        },
    },
]


def _database_url() -> str:
    if url := os.environ.get("DATABASE_URL"):
        return url
    return embedded_db.server_uri(os.environ.get("ONEFORONE_DB_NAME", "oneforone"))


DATABASES = {"default": dj_database_url.parse(_database_url(), conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if test_database := os.environ.get("ONEFORONE_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": test_database}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
CSRF_FAILURE_VIEW = "oneforone.core.views.csrf_failure"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Every page, e-mail and PDF in these languages; the catalogues live in src/oneforone/locale and a
# test fails when a marked string has no translation (see docs/translations.md).
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "oneforone_language"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", embedded_db.data_dir() / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Bulk uploads of registrations (CSV/XLSX), imported in the background: a million device lines
# are about 40 MB of CSV. Larger request bodies than FILE_UPLOAD_MAX_MEMORY_SIZE are streamed to
# a temporary file, never held in memory.
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", 200 * 1000 * 1000))
UPLOAD_MAX_ROWS = int(os.environ.get("UPLOAD_MAX_ROWS", 1_000_000))
# "Accept the valid rows" uploads commit this many devices (or registrations) at a time.
UPLOAD_CHUNK_DEVICES = int(os.environ.get("UPLOAD_CHUNK_DEVICES", 100_000))
DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if os.environ.get("ONEFORONE_TASKS") == "immediate"
            else "django_tasks_db.DatabaseBackend"
        ),
    }
}

# Reconciliation tolerances at recycler reception (counted vs dispatched, grams per phone).
RECEPTION_COUNT_TOLERANCE = Decimal(os.environ.get("RECEPTION_COUNT_TOLERANCE", "0.01"))
RECEPTION_GRAMS_PER_PHONE_MIN = Decimal(os.environ.get("RECEPTION_GRAMS_PER_PHONE_MIN", "40"))
RECEPTION_GRAMS_PER_PHONE_MAX = Decimal(os.environ.get("RECEPTION_GRAMS_PER_PHONE_MAX", "120"))

# Rate limits (oneforone.core.ratelimit): a scope listed here overrides the limit in the code.
RATE_LIMITS: dict[str, str] = {
    scope.strip(): rate.strip()
    for scope, _, rate in (
        entry.partition("=") for entry in os.environ.get("ONEFORONE_RATE_LIMITS", "").split(",")
    )
    if scope.strip()
}
TRUST_X_FORWARDED_FOR = os.environ.get("ONEFORONE_TRUST_X_FORWARDED_FOR", "0").lower() in {
    "1",
    "true",
    "yes",
}

PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000")

# E-mail (Django 6.1's MAILERS): printed to the console unless an SMTP server is configured;
# tests use Django's outbox.
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": os.environ.get("EMAIL_USE_TLS", "0").lower() in {"1", "true", "yes"},
                "timeout": 30,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "oneforone <noreply@localhost>")

# Uploaded files (bulk imports, attachments): in the data folder unless MEDIA_ROOT says otherwise.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", embedded_db.data_dir() / "media"))
MEDIA_URL = "media/"

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Each task's start and end is logged at INFO; only failures should reach the console.
    "loggers": {"django.tasks": {"level": os.environ.get("TASKS_LOG_LEVEL", "WARNING")}},
}

# Shipment documents: kept at least five years after completion; the largest attachment accepted.
ONEFORONE_DOCUMENT_RETENTION_YEARS = int(os.environ.get("ONEFORONE_DOCUMENT_RETENTION_YEARS", "5"))
ONEFORONE_ATTACHMENT_MAX_BYTES = int(os.environ.get("ONEFORONE_ATTACHMENT_MAX_BYTES", "10000000"))
