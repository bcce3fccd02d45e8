"""Reading settings from the environment: typed, strict, and naming the variable at fault."""

import os
import secrets
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class SettingError(ImproperlyConfigured):
    """A setting from the environment has a value Accord cannot use."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(f"{name}={raw!r} is not a yes/no value; use true or false.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number.") from None
    if value < 0:
        raise SettingError(f"{name}={raw!r} must not be negative.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise SettingError(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def read_secret_key(data_dir: Path) -> str:
    """SECRET_KEY from the environment, else from var/secret_key, made on first run."""
    key = env_str("SECRET_KEY", "")
    if key:
        if len(key) < 50 or len(set(key)) < 5:
            raise SettingError("SECRET_KEY is too short: use at least 50 random characters.")
        return key
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    # Created with owner-only permissions; never committed (var/ is git-ignored).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key)
    return key


def read_database_url(data_dir: Path) -> dict:
    """DATABASE_URL as a Django database dict; SQLite under data_dir by default."""
    url = env_str("DATABASE_URL", "")
    if not url:
        data_dir.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{data_dir / 'accord.sqlite3'}"
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise SettingError(
            f"DATABASE_URL has the scheme {scheme!r}; Accord supports sqlite:/// and postgres://."
        )
    try:
        database = environ.Env.db_url_config(url)
    except Exception as error:
        raise SettingError(f"DATABASE_URL cannot be read: {error}") from None
    if database["ENGINE"] == "django.db.backends.sqlite3":
        if not database["NAME"] or database["NAME"] == ":memory:":
            raise SettingError("DATABASE_URL must name an SQLite file, e.g. sqlite:////srv/a.db.")
        database["OPTIONS"] = {
            # WAL lets readers work while one writer writes; IMMEDIATE takes the write
            # lock at BEGIN so two writers queue on the busy timeout instead of failing.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA cache_size=-20000;"
            ),
        }
        # Tests use a file too, not shared-cache memory: locking then works as in production
        # (two workers writing at once queue on the busy timeout).
        path = Path(database["NAME"])
        database["TEST"] = {"NAME": str(path.with_name(f"test_{path.name}"))}
    else:
        if not database.get("NAME"):
            raise SettingError("DATABASE_URL must name a database, e.g. postgres://u@h/accord.")
        database.setdefault("OPTIONS", {})
        database["OPTIONS"].setdefault("connect_timeout", 5)
        # No JIT: it compiled the Inbox's queries for 10–12 ms each to save less than a
        # millisecond of their run (a web page's queries are short; JIT pays off on
        # long reports). `?options=…` in DATABASE_URL still overrides it.
        database["OPTIONS"].setdefault("options", "-c jit=off")
    # Connections kept between requests: a new SQLite connection reads the whole schema
    # again and runs the pragmas above (a third of a webhook's request); a PostgreSQL one
    # is a new backend.
    database["CONN_MAX_AGE"] = env_int("ACCORD_DB_CONN_MAX_AGE", 60)
    database["CONN_HEALTH_CHECKS"] = True
    return database


def read_redis_url() -> str:
    url = env_str("REDIS_URL", "")
    if url and urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise SettingError(f"REDIS_URL={url!r} must start with redis://, rediss:// or unix://.")
    return url


def read_base_url() -> str:
    """ACCORD_BASE_URL: where clients reach this Accord (links in e-mail), http(s)://host."""
    value = env_str("ACCORD_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise SettingError(
            f"ACCORD_BASE_URL must be the address clients reach Accord at, like "
            f"https://crm.example.com; got {value!r}."
        )
    return value


def read_time_zone() -> str:
    name = env_str("ACCORD_TIME_ZONE", "UTC")
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            f"ACCORD_TIME_ZONE={name!r} is not a time zone (e.g. Europe/Berlin)."
        ) from None
    return name


def read_phone_region() -> str:
    """ACCORD_PHONE_REGION: the country (ISO 3166 code) of numbers typed without a +."""
    import phonenumbers  # only when the settings are read: the command starts without it

    region = env_str("ACCORD_PHONE_REGION", "").upper()
    if region and region not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingError(
            f"ACCORD_PHONE_REGION={region!r} is not a country code (e.g. RU, IL, AM, DE)."
        )
    return region


def read_currency() -> str:
    """ACCORD_CURRENCY: the company's main currency (ISO 4217), used for new deals."""
    from babel.numbers import list_currencies  # as above, only when the settings are read

    code = env_str("ACCORD_CURRENCY", "EUR").upper()
    if code not in list_currencies():
        raise SettingError(
            f"ACCORD_CURRENCY={code!r} is not a currency code (e.g. EUR, RUB, ILS, AMD)."
        )
    return code


def read_email_url() -> dict:
    """ACCORD_EMAIL_URL: the outgoing mail server, e.g. smtp://user:pass@mail.example.com:587
    (smtp+tls:// for STARTTLS, smtps:// for TLS), as Django's MAILERS. Unset: no mailer,
    and Accord sends no e-mail."""
    url = env_str("ACCORD_EMAIL_URL", "")
    if not url:
        return {}
    if urlsplit(url).scheme not in {"smtp", "smtps", "smtp+tls", "smtp+ssl"}:
        raise SettingError(
            f"ACCORD_EMAIL_URL={url!r} must start with smtp://, smtp+tls:// or smtps://."
        )
    try:
        parsed = environ.Env.email_url_config(url)
    except ValueError as error:
        raise SettingError(f"ACCORD_EMAIL_URL is not a mail server address: {error}") from None
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": parsed.get("EMAIL_HOST") or "localhost",
                "port": parsed.get("EMAIL_PORT") or 25,
                "username": parsed.get("EMAIL_HOST_USER", ""),
                "password": parsed.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": bool(parsed.get("EMAIL_USE_TLS")),
                "use_ssl": bool(parsed.get("EMAIL_USE_SSL")),
                "timeout": 20,
            },
        }
    }
