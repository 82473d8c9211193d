"""Settings for the customer portal.

One file, driven by environment variables. Every value read from the environment goes
through a small typed helper that raises ImproperlyConfigured naming the variable when
the value is malformed, so a bad deploy fails at start instead of at the first request.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from dotenv import load_dotenv
from stdnum import bic, iban
from stdnum.exceptions import ValidationError

BASE_DIR = Path(__file__).resolve().parent.parent

# The development configuration of this checkout: `make run` writes `.env` once (a
# generated DJANGO_SECRET_KEY and DJANGO_DEBUG=1, see tools/dev_env.py), and every
# process reads it here, so `manage.py <anything>` by hand sees what `make run` serves.
# A real environment variable wins over the file. Production has no `.env` (or points
# PORTAL_ENV_FILE at its own file); PORTAL_ENV_FILE="" reads none (the test settings).
_env_file = os.environ.get("PORTAL_ENV_FILE")
if _env_file is None:
    _env_file = BASE_DIR / ".env"
    if _env_file.is_file():
        load_dotenv(_env_file, override=False)
elif _env_file.strip():
    if not Path(_env_file).is_file():
        raise ImproperlyConfigured(f"PORTAL_ENV_FILE names no readable file: {_env_file!r}")
    load_dotenv(_env_file, override=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envstr(name, default=None):
    value = os.environ.get(name)
    return default if value is None else value.strip()


def envbool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name, default, *, minimum=None, maximum=None):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, got {number}")
    return number


def envlist(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envurl(name, default, *, schemes):
    value = envstr(name, default)
    parsed = urlparse(value)
    if parsed.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {allowed}; got {value!r}")
    return value


DEBUG = envbool("DJANGO_DEBUG", False)

SECRET_KEY = envstr("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(for local development, `make run` writes both into .env)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG"

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])

PORTAL_BASE_URL = envurl(
    "PORTAL_BASE_URL", "http://127.0.0.1:8000", schemes={"http", "https"}
).rstrip("/")

NIC_SUFFIX = envstr("NIC_SUFFIX", "-OVH")
if not (1 <= len(NIC_SUFFIX) <= 10) or not all(c.isascii() and (c.isalnum() or c == "-") for c in NIC_SUFFIX):
    raise ImproperlyConfigured(
        f"NIC_SUFFIX must be 1 to 10 ASCII letters, digits or '-', got {NIC_SUFFIX!r}"
    )

# Seller identity printed on invoices.
SELLER_NAME = envstr("SELLER_NAME", "Example Hosting SAS")
SELLER_ADDRESS = envstr("SELLER_ADDRESS", "2 rue Kellermann, 59100 Roubaix, France")
SELLER_VAT_NUMBER = envstr("SELLER_VAT_NUMBER", "FR00123456789")
# Where the seller is established (ISO 3166 code): its customers pay its VAT, EU
# businesses elsewhere are reverse-charged (billing.vat).
SELLER_COUNTRY = envstr("SELLER_COUNTRY", "FR").upper()
if not (len(SELLER_COUNTRY) == 2 and SELLER_COUNTRY.isascii() and SELLER_COUNTRY.isalpha()):
    raise ImproperlyConfigured(f"SELLER_COUNTRY must be a two-letter country code, got {SELLER_COUNTRY!r}")


def envbank(name, default, module):
    """A bank identifier (IBAN or BIC) checked by python-stdnum, in its compact form."""
    value = envstr(name, default)
    try:
        return module.validate(value)
    except ValidationError as exc:
        raise ImproperlyConfigured(f"{name} is not valid ({exc}), got {value!r}") from None


# The account customers pay into by bank transfer (invoices, the pay page, the EPC QR
# code). The defaults are well-formed examples, not a real account.
SELLER_IBAN = envbank("SELLER_IBAN", "FR7630006000011234567890189", iban)
SELLER_BIC = envbank("SELLER_BIC", "EXHOFRPPXXX", bic)
# Days between an invoice's issue and its due date (reminders at due + 3 and + 10 days,
# suspension at + 15: billing.services.dunning).
INVOICE_PAYMENT_DAYS = envint("INVOICE_PAYMENT_DAYS", 14, minimum=0, maximum=365)

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    # Before django.contrib.auth: its createsuperuser command (a NIC handle drawn and
    # printed) replaces auth's, which would ask for the handle.
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_countries",
    "axes",
    "csp",
    "django_otp",
    "billing",
    "support",
    "notifications",
]

MIDDLEWARE = [
    "portal.middleware.HeaderControlCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.SessionActivityMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.layout",
            ],
            # The portal package is not an app of its own (its AppConfig is the admin's).
            "libraries": {"formats": "portal.formats",
                          "portal_forms": "portal.templatetags.portal_forms",
                          "fragment_cache": "portal.templatetags.fragment_cache",
                          "i18n": "portal.templatetags.remembered_i18n"},
            # `{% translate %}` and `{% url %}` computed once per process and language
            # where nothing else changes them (portal.templatetags.remembered_i18n).
            "builtins": ["portal.templatetags.remembered_url"],
        },
    },
    {
        # Plain-text emails and subjects (notifications.rendering.email_render): the same
        # templates folder, without HTML escaping.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {"autoescape": False,
                    "libraries": {"formats": "portal.formats",
                                  "i18n": "portal.templatetags.remembered_i18n"},
                    "builtins": ["portal.templatetags.remembered_url"]},
    },
]
# Both engines name portal.templatetags.remembered_i18n "i18n" on purpose (it stands in
# for Django's library of that name); the check warns of any such second module.
SILENCED_SYSTEM_CHECKS = ["templates.W003"]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
VAR_DIR = Path(envstr("PORTAL_VAR_DIR", str(BASE_DIR / "var")))
_default_db_url = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
try:
    _db = dj_database_url.parse(
        envstr("DATABASE_URL", _default_db_url), conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0)
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
_prepare = envint("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)  # PostgreSQL's, below
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions and a busy timeout let web, worker and beat share one file.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL (psycopg 3's server-side binding), so a query
    # run again has the same text and psycopg prepares it on the connection after
    # DATABASE_PREPARE_THRESHOLD runs: PostgreSQL then stops planning it each time, which
    # was 0.2-0.6 ms of a page's joins against 0.05 ms to run them (make bench). 0 turns
    # preparing off, for a pooler in transaction mode that cannot keep prepared statements
    # (PgBouncer before 1.21, or without max_prepared_statements).
    _db["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": _prepare or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.NicHandleOrEmailBackend",
]

# Login throttling (customer and admin logins alike): failures count per account (NIC
# handle and email count as one) and per IP; the cool-off ends by itself, never a lock.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 8, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the login form field, not USERNAME_FIELD
AXES_USERNAME_CALLABLE = "accounts.throttling.login_key"
AXES_CLIENT_IP_CALLABLE = "accounts.throttling.request_ip"
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AXES_VERBOSE = False
# TOTP: accounts.models.AuthenticatorApp (django-otp's device and TOTP, the seed sealed;
# django-otp's own TOTPDevice, which keeps it readable, is not installed). Wrong codes
# are throttled per account by accounts.services.second_factor like passwords.
OTP_TOTP_ISSUER = envstr("OTP_TOTP_ISSUER", "Customer portal")
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Argon2id at m=19 MiB, t=2, p=1, a set OWASP recommends, not Django's m=100 MiB, p=8: about
# 8x the logins per core; older hashes are rehashed at login (accounts/hashers.py).
PASSWORD_HASHERS = [
    "accounts.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("nic_handle", "email", "first_name", "last_name")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

PASSWORD_RESET_TIMEOUT = 3600  # reset links are valid for one hour

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp) on every response: pages load only this site's own
# files, so no inline script, style or event handler (they live in static/); images may
# also be data: URLs (Bootstrap's icons). A view that needs another policy says so with
# django-csp's @csp decorator (the HTML body of an email: notifications.views).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "object-src": [NONE],
        "img-src": [SELF, "data:"],
        "form-action": [SELF],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    },
}
if envbool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(envstr("PORTAL_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Files customers need (invoice PDFs, support attachments) are read and written through
# Django's storage API only (the default storage), never by path, so they can live where
# every web and worker machine reaches them. Embedded default: files under MEDIA_ROOT.
# With AWS_STORAGE_BUCKET_NAME: a private S3-compatible bucket through django-storages
# (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the machine's role, as
# boto3 finds them). Never serve the bucket or MEDIA_ROOT directly: downloads go through
# the views that check who asks.
S3_BUCKET = envstr("AWS_STORAGE_BUCKET_NAME", "")
if S3_BUCKET:
    _s3_endpoint = envstr("AWS_S3_ENDPOINT_URL", "")
    if _s3_endpoint:
        envurl("AWS_S3_ENDPOINT_URL", "", schemes={"http", "https"})
    _s3_addressing = envstr("AWS_S3_ADDRESSING_STYLE", "") or None
    if _s3_addressing not in (None, "auto", "path", "virtual"):
        raise ImproperlyConfigured(
            f"AWS_S3_ADDRESSING_STYLE must be auto, path or virtual, got {_s3_addressing!r}")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "location": envstr("AWS_LOCATION", "").strip("/"),  # a key prefix in the bucket
            "endpoint_url": _s3_endpoint or None,  # MinIO, Ceph, OVHcloud, Scaleway...
            "region_name": envstr("AWS_S3_REGION_NAME", "") or None,
            "addressing_style": _s3_addressing,
            # A name in use gets another one, as on disk: never overwrite a stored file
            # (billing.services.invoices keeps one PDF when two renders race).
            "file_overwrite": False,
        },
    }

# Request bodies. The largest form is a few kilobytes (a recovery message of 2,000
# characters; an admin action on a page of 100 rows), so 256 KiB leaves room and a larger
# body is refused before it is read into memory: a 413 page (portal.views.bad_request).
# Fields: the admin's user form with every permission chosen sends one field per
# permission, a few hundred; past 1,000 the request is a 400 page. No form takes a file
# yet: a file part is kept in memory up to 256 KiB, then in a temporary file, and past
# PORTAL_MAX_UPLOAD_SIZE refused with the 413 page (portal.uploads).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
PORTAL_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
# Bank statements staff import (billing.services.reconciliation); a request is bounded
# by PORTAL_MAX_UPLOAD_SIZE anyway.
BANK_STATEMENT_MAX_BYTES = envint("BANK_STATEMENT_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Cache (rate limits, the invoice list): Redis when CACHE_URL says so, else files under var/cache/, which
# every process of the embedded mode shares without a server.
CACHE_URL = envurl("CACHE_URL", "file://", schemes={"file", "redis", "rediss", "locmem"})
if CACHE_URL.startswith(("redis://", "rediss://")):
    # Short timeouts: a stalled Redis slows a request by a second at most (the cached
    # pages fall back to the database, see portal.cache).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
elif CACHE_URL.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# How long a rendered page of a customer's invoice list is kept; 0 renders it each time.
# A new invoice or a payment changes the list's version (billing.services), so this only
# bounds the space taken by versions nobody reads any more.
INVOICE_LIST_CACHE_SECONDS = envint("INVOICE_LIST_CACHE_SECONDS", 3600, minimum=0)

# How long a list drawn by {% fragment_cache %} is kept (its key is the data it shows, so a
# change shows at once; this bounds the space taken by data shown no more); 0 draws it
# each time. See portal.templatetags.fragment_cache.
FRAGMENT_CACHE_SECONDS = envint("FRAGMENT_CACHE_SECONDS", 3600, minimum=0)

# Email. With no EMAIL_HOST, messages go to the console and to files under var/mail/.
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Customer portal <no-reply@portal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = envstr("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 20, minimum=1)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "notifications.backends.ConsoleAndFileEmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"

# Celery. With no CELERY_BROKER_URL the broker is kombu's filesystem transport under
# var/broker/, so the embedded mode needs no server.
CELERY_BROKER_URL = envurl(
    "CELERY_BROKER_URL", "filesystem://", schemes={"filesystem", "redis", "rediss", "memory"}
)
# Publishing a task must never hang a web request when the broker is down: the outbox
# row is already committed and the re-queue beat job hands it over later. So no
# reconnect-and-wait when publishing (max_retries 0: a refused connection fails at
# once), and bounded socket waits: an unreachable or frozen Redis fails within 2 or 3
# seconds instead of the operating system's minutes, or for ever. The socket timeout
# stays above kombu's 1 s BRPOP poll. The visibility timeout outlasts the longest retry
# countdown (an hour) plus the task's time limit, so that Redis does not hand a waiting
# retry to a second worker.
# TCP keepalive and a 10 s health check (kombu drops a BRPOP connection whose reply is
# overdue by that much, instead of the default 25 s) let a worker notice a broker that
# vanished without closing its connections.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "socket_connect_timeout": envint("BROKER_CONNECT_TIMEOUT", 2, minimum=1),
    "socket_timeout": envint("BROKER_SOCKET_TIMEOUT", 3, minimum=2),
    "socket_keepalive": True,
    "health_check_interval": 10,
    "visibility_timeout": 2 * 3600,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS.update({
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
    })
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it ends, and handed back to the broker when its worker
# process dies; each worker reserves one task at a time. The hard time limit also bounds
# how long a row can legitimately stay `sending` (see notifications.delivery).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("TASK_TIME_LIMIT", 90, minimum=6)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT * 2 // 3
# Celery's Django fix-up closes the database connection before and after every task
# unless this is set, so CONN_MAX_AGE had no effect in workers: one new PostgreSQL
# session per email. Now a worker process keeps its connection for this many tasks;
# portal.celery still drops it when it is broken or older than CONN_MAX_AGE, as Django
# does between requests.
CELERY_DB_REUSE_MAX = envint("CELERY_DB_REUSE_MAX", 1000, minimum=0)
# Worker liveness (portal.celery.LivenessFile, checked by `python -m portal.liveness`):
# a worker touches this file every WORKER_LIVENESS_INTERVAL seconds while its event
# loop runs and it can take a task (or is running one). Empty: no file.
WORKER_LIVENESS_FILE = envstr("WORKER_LIVENESS_FILE", "")
WORKER_LIVENESS_INTERVAL = envint("WORKER_LIVENESS_INTERVAL", 5, minimum=1)
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
# Beat's state in this checkout's var/ (the Procfile adds its pid file there, so a second
# beat started from the same var/ refuses to run).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "requeue-password-resets": {
        "task": "accounts.tasks.requeue_password_resets_task",
        "schedule": 60.0,
    },
    "apply-due-email-changes": {
        "task": "accounts.tasks.apply_due_email_changes_task",
        "schedule": 60.0,
    },
    "requeue-stale-emails": {
        "task": "notifications.tasks.requeue_stale_emails_task",
        "schedule": 60.0,
    },
    "billing-issue-renewals": {
        "task": "billing.tasks.issue_renewals_task",
        "schedule": crontab(hour=3, minute=0),
    },
    "billing-expire-services": {
        "task": "billing.tasks.expire_services_task",
        "schedule": crontab(hour=3, minute=30),
    },
    # Unpaid invoices: reminders at due + 3 and + 10 days, suspension at + 15.
    "billing-dun-unpaid-invoices": {
        "task": "billing.tasks.dun_unpaid_invoices_task",
        "schedule": crontab(minute=45),
    },
    "billing-expire-contact-changes": {
        "task": "billing.tasks.expire_contact_changes_task",
        "schedule": 300.0,
    },
    # Requests waiting for the customer for 14 days are closed, with a notice.
    "support-auto-close": {
        "task": "support.tasks.auto_close_requests_task",
        "schedule": crontab(minute=15),
    },
}
# BEAT_EVERY (seconds, unset in production) runs every timed job that often instead,
# daily ones included: for the fault tests, which need the jobs to act within minutes.
_beat_every = envint("BEAT_EVERY", 0, minimum=0)
if _beat_every:
    for _job in CELERY_BEAT_SCHEDULE.values():
        _job["schedule"] = float(_beat_every)

# First delay before an email is tried again after SMTP failed (doubled at each attempt,
# capped at an hour; see notifications.delivery).
EMAIL_RETRY_BASE_DELAY = envint("EMAIL_RETRY_BASE_DELAY", 30, minimum=1, maximum=3600)
# Tries before an email is marked failed: with the defaults, eight span about two hours
# of a mail server answering "try later".
EMAIL_MAX_ATTEMPTS = envint("EMAIL_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
# Rows a delivery task claims and sends over one SMTP connection (notifications.delivery.
# email_deliver_due). Rows of a batch wait `sending` while those before them go out: a
# worker that dies leaves them for the re-queue job (5 minutes), so keep it modest.
EMAIL_DELIVERY_BATCH = envint("EMAIL_DELIVERY_BATCH", 50, minimum=1, maximum=1000)
# The re-queue job (notifications.delivery.email_requeue_stale) hands back a queued row
# overdue by EMAIL_STALE_AFTER seconds, and a `sending` row claimed EMAIL_SENDING_TIMEOUT
# seconds ago: that must outlast a task's hard time limit, or a live worker could still
# be sending it. Shorter values are for the fault tests.
EMAIL_STALE_AFTER = envint("EMAIL_STALE_AFTER", 300, minimum=1)
EMAIL_SENDING_TIMEOUT = envint("EMAIL_SENDING_TIMEOUT", 300, minimum=1)
if EMAIL_SENDING_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"EMAIL_SENDING_TIMEOUT ({EMAIL_SENDING_TIMEOUT} s) must be longer than "
        f"TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT} s)")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},  # seven INFO lines per invoice PDF
    },
}
