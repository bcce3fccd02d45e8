"""Accord's settings, read from the environment (and ./.env when present).

Every variable is listed in README.md. A bad value stops start-up with an error that
names the variable, so a typo never runs silently with a default.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from accord.config import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    read_base_url,
    read_currency,
    read_database_url,
    read_email_url,
    read_phone_region,
    read_redis_url,
    read_secret_key,
    read_time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent

environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATA_DIR = Path(env_str("ACCORD_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = read_secret_key(DATA_DIR)
# Earlier secret keys, still accepted after SECRET_KEY is changed: sessions and signed
# links made with them, and the mailbox passwords they encrypted (accord/core/secrets.py).
SECRET_KEY_FALLBACKS = env_list("ACCORD_SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
HTTPS = env_bool("ACCORD_HTTPS", False)
REDIS_URL = read_redis_url()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "ninja",
    "django_tasks_db",
    "django_tasks_rq",
    "django_rq",
    "accord.core",
    "accord.accounts",
    "accord.contacts",
    "accord.catalog",
    "accord.sales",
    "accord.work",
    "accord.comms",
    "accord.documents",
    "accord.billing",
    "accord.marketing",
    "accord.reports",
    "accord.transfer",
    "accord.automation",
    "accord.web",
    "accord.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "accord.api.middleware.ProblemDetailsMiddleware",
    "accord.api.middleware.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accord.web.middleware.CompanyLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accord.accounts.middleware.AccountMiddleware",
    "accord.api.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accord.web.middleware.HtmxLoginRedirectMiddleware",
    "axes.middleware.AxesMiddleware",
]

# A request's body without its files, in memory: over it, Django refuses the form and
# the API answers 413 (accord.api.middleware.InputGuardMiddleware). Django's default.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

ROOT_URLCONF = "accord.urls"
WSGI_APPLICATION = "accord.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accord.web.context_processors.shell",
            ],
            "builtins": ["accord.core.templatetags.dates"],
        },
    },
]

# --- Database --------------------------------------------------------------------
DATABASES = {"default": read_database_url(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and background work ---------------------------------------------------
RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Auth --------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accord.accounts.backends.AccountBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): five failures from one address, or for one e-mail
# (existing or not, so the answer reveals nothing), lock logins for a while.
AXES_FAILURE_LIMIT = env_int("ACCORD_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ACCORD_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accord.accounts.throttling.username_of"
AXES_LOCKOUT_CALLABLE = "accord.accounts.throttling.locked_out"
AXES_VERBOSE = False
if HTTPS:  # behind the TLS proxy, the client is the last address it forwards
    AXES_IPWARE_PROXY_COUNT = 1
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

OTP_TOTP_ISSUER = "Accord"

# --- Internationalisation ----------------------------------------------------------
LANGUAGES = [
    ("en", _("English")),
    ("ru", _("Russian")),
    ("he", _("Hebrew")),
    ("hy", _("Armenian")),
]
LANGUAGE_CODE = env_choice("ACCORD_LANGUAGE", "en", [code for code, _name in LANGUAGES])
TIME_ZONE = read_time_zone()
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "accord" / "locale"]
FORMAT_MODULE_PATH = ["accord.formats"]

# --- Static files --------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing one
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "files"

# --- Security ----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("ACCORD_SESSION_AGE", 14 * 24 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = env_list("ACCORD_CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "accord.web.views.csrf_failure"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("ACCORD_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}

# --- Logging -------------------------------------------------------------------------
LOG_LEVEL = env_choice("ACCORD_LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs each request's address at INFO: a Telegram bot's token is in its path.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # WeasyPrint tells each step of each PDF, fontTools each table of each font it trims.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Accord --------------------------------------------------------------------------
ACCORD_WORKER_HEARTBEAT_SECONDS = 10
ACCORD_SCHEDULER_SECONDS = 30  # how often a worker runs reminders and escalations
# A scheduled backup (or "Back up now") runs as `accord backup`, a process of its own, so
# the worker's jobs go on beside it (accord/transfer/services/backups.py).
ACCORD_BACKUP_APART = env_bool("ACCORD_BACKUP_APART", True)
# Events' handlers (automation rules) run as tasks on the workers rather than in the
# process that committed: on by default with Redis (docs/architecture.md, "Domain events").
ACCORD_EVENTS_ON_WORKERS = env_bool("ACCORD_EVENTS_ON_WORKERS", bool(REDIS_URL))
MAILERS = read_email_url()
EMAIL_ENABLED = bool(MAILERS)
if not EMAIL_ENABLED:  # e-mail is optional: reminders stay in the app until it is set up
    SILENCED_SYSTEM_CHECKS = ["mail.W001"]
DEFAULT_FROM_EMAIL = env_str("ACCORD_EMAIL_FROM", "Accord <accord@localhost>")
ACCORD_PHONE_REGION = read_phone_region()
ACCORD_CURRENCY = read_currency()
# The first administrator's first login asks where the company works (country, currency,
# time zone) until Settings → Company is saved once; off for an instance set up by script.
ACCORD_COMPANY_FIRST_STEP = env_bool("ACCORD_COMPANY_FIRST_STEP", True)
# How long a process keeps the company's profile before reading it again; None: 10 s in
# a process's own memory (not told of another's save), 5 min in a shared cache (Redis).
ACCORD_PROFILE_CACHE_SECONDS = None
# Outgoing webhooks refuse private, loopback and link-local addresses (accord/core/http.py);
# these hosts ("name" for any port, or "name:port") are let through: a receiver inside
# the company network, or a test server on localhost.
ACCORD_WEBHOOK_ALLOWED_HOSTS = env_list("ACCORD_WEBHOOK_ALLOWED_HOSTS", [])
# Telephony (accord/comms/telephony.py): Zadarma's API, asked for a call's recording.
ACCORD_ZADARMA_API = env_str("ACCORD_ZADARMA_API", "https://api.zadarma.com")
# Twilio: the host its recordings are fetched from with the account's key (and none other).
ACCORD_TWILIO_HOST = env_str("ACCORD_TWILIO_HOST", "twilio.com")
# Messengers and SMS (accord/comms/messengers.py): the providers' APIs Accord sends through.
ACCORD_TELEGRAM_API = env_str("ACCORD_TELEGRAM_API", "https://api.telegram.org")
ACCORD_WHATSAPP_API = env_str("ACCORD_WHATSAPP_API", "https://graph.facebook.com/v21.0")
ACCORD_TWILIO_API = env_str("ACCORD_TWILIO_API", "https://api.twilio.com")
# Writing to clients (accord/comms): the attachments of one message together at most this
# many megabytes, and how long a mail server may take to answer before it counts as away.
ACCORD_EMAIL_ATTACHMENTS_MB = env_int("ACCORD_EMAIL_ATTACHMENTS_MB", 10)
# The largest file that may be kept on a client, a deal or a task.
ACCORD_ATTACHMENT_MB = env_int("ACCORD_ATTACHMENT_MB", 25)
ACCORD_EMAIL_TIMEOUT_SECONDS = env_int("ACCORD_EMAIL_TIMEOUT_SECONDS", 20)
# The address clients reach this Accord at, for links in e-mails (the unsubscribe link of
# offers and news): set it to the public https address in production.
ACCORD_BASE_URL = read_base_url()
# Receiving (accord/comms/fetching.py): a message heavier than this is kept by its headers
# only; a mailbox's first fetch (or one after its folder was rebuilt) takes at most this many
# of its newest messages from the last this many days; a mailbox is fetched this often.
ACCORD_EMAIL_RAW_MAX_MB = env_int("ACCORD_EMAIL_RAW_MAX_MB", 50)
ACCORD_EMAIL_FIRST_FETCH_MESSAGES = env_int("ACCORD_EMAIL_FIRST_FETCH_MESSAGES", 10_000)
ACCORD_EMAIL_FIRST_FETCH_DAYS = env_int("ACCORD_EMAIL_FIRST_FETCH_DAYS", 90)
ACCORD_EMAIL_FETCH_SECONDS = env_int("ACCORD_EMAIL_FETCH_SECONDS", 60)
ACCORD_DEMO_PASSWORD = "demo-accord-2026"  # noqa: S105 (published: the demo logins)
