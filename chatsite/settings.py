"""Settings for the chat, read from the environment with safe defaults.

Every knob a deployment turns is an environment variable; nothing here needs editing to
run in production. See docs/deployment.md for the full list.
"""

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CHAT_VAR_DIR", BASE_DIR / "var"))

logger = logging.getLogger("chatsite")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/.

    A fresh clone then runs without configuration, and sessions survive restarts. In
    production (DJANGO_SECURE=1) it must come from the environment: daphnes on several
    hosts would otherwise each sign sessions with a key of their own.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    if env_bool("DJANGO_SECURE", False):
        raise ImproperlyConfigured("DJANGO_SECURE=1 needs SECRET_KEY from the env")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# --- Core -----------------------------------------------------------------------------
SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", env_bool("DEBUG", False))
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")


def _refuse_wildcards(hosts: list[str], origins: list[str]) -> None:
    """A bare '*' would accept any Host header (and any WebSocket Origin, which the
    origin check compares against ALLOWED_HOSTS): name the hosts instead."""
    if "*" in hosts:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must name the site's hosts, not '*' (e.g. chat.example.com)."
        )
    for origin in origins:
        if origin == "*" or origin.partition("://")[2] == "*":
            raise ImproperlyConfigured(
                f"CSRF_TRUSTED_ORIGINS must name origins, not {origin!r} "
                "(e.g. https://chat.example.com)."
            )


_refuse_wildcards(ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "csp",
    "accounts",
    "rooms",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# DATABASE_URL, e.g. postgres://chat:secret@127.0.0.1:5432/chat.
# Unset: SQLite under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'chat.sqlite3'}"
    )
}
# Connections are reused, not opened per database call (docs/performance.md): PostgreSQL
# through psycopg's pool, Django's advice under ASGI; SQLite by keeping each thread's
# connection (opening one runs the PRAGMAs, closing the last one checkpoints the WAL),
# HTTP requests running on kept threads (chatsite/request_threads.py).
# DATABASE_CONN_MAX_AGE overrides.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = int(
        os.environ.get("DATABASE_CONN_MAX_AGE", "0")
    )
    if DATABASES["default"]["CONN_MAX_AGE"] == 0 and env_bool("DATABASE_POOL", True):
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": 2,
                "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "8")),
            }
        }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = int(
        os.environ.get("DATABASE_CONN_MAX_AGE", "600")
    )
    # Many writers at once: WAL lets readers run beside the writer, IMMEDIATE takes the
    # write lock at BEGIN (no deadlocking upgrade from a read lock), and the timeout
    # makes a writer wait its turn instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA foreign_keys=ON;"
        ),
    }
    # A file, not :memory:, so tests see the same locking as production; one per test
    # run, so two runs side by side don't share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer --------------------------------------------------------------------
# REDIS_URL set: Redis pub/sub, one message per process per event (many daphnes), fanned
# out to the process's sockets once (chatsite/layers.py; docs/performance.md).
# Unset: the in-memory layer, which only reaches sockets of this one process.
REDIS_URL = os.environ.get("REDIS_URL", "")


def channel_layers(redis_url: str) -> dict:
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    return {
        "default": {
            "BACKEND": "chatsite.layers.FanoutPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": redis_url,
                        # redis-py 8 times reads out after 5 s by default, which
                        # would drop idle subscribers; pub/sub reads poll with their
                        # own timeout.
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "health_check_interval": 30,
                    }
                ],
                "prefix": os.environ.get("CHAT_CHANNEL_PREFIX", "chat"),
            },
        }
    }


CHANNEL_LAYERS = channel_layers(REDIS_URL)

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's database sessions, loaded with one plain statement
# (chatsite/session_store.py).
SESSION_ENGINE = "chatsite.session_store"
# django-axes' backend goes first: it refuses a locked-out login before any password
# is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "rooms:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": (
            "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
        )
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "chatsite.storage.StaticStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
# DJANGO_SECURE=1: served over HTTPS behind a proxy that sets X-Forwarded-Proto (only
# the proxy may reach daphne, or a client could claim https itself).
if env_bool("DJANGO_SECURE", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    # A load balancer probes daphne directly over plain HTTP and wants a 200, not a 301.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy on every response, in development too, so a page that needs an
# inline script or style breaks at once on a developer's machine, not first in
# production. Scripts and styles come from our own static files only; the WebSocket and
# the event stream go to our own host ('self' covers ws:/wss: of the same host in CSP
# Level 3 browsers, which tests/chatsite/test_security.py checks in Chromium; behind
# HTTPS the site's wss:// hosts are named too, for browsers that predate that). Data
# blocks (<script type="application/json">, Django's json_script) are not scripts.


def websocket_sources(hosts: list[str]) -> list[str]:
    """wss:// sources for ALLOWED_HOSTS ('.example.com': it and its subdomains)."""
    sources = []
    for host in hosts:
        if host.startswith("."):
            sources += [f"wss://{host[1:]}", f"wss://*{host}"]
        else:
            sources.append(f"wss://{host}")
    return sources


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
if env_bool("DJANGO_SECURE", False):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"] += websocket_sources(
        ALLOWED_HOSTS
    )
if csp_report_uri := os.environ.get("CHAT_CSP_REPORT_URI"):
    # Browsers POST what the policy blocked there (a collector of your own).
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [csp_report_uri]

# --- Login throttling (django-axes) ---------------------------------------------------
# CHAT_LOGIN_FAILURE_LIMIT failed logins, on the site's login or the admin's, lock for
# CHAT_LOGIN_COOLOFF_MINUTES: the username that failed (from any address) and the IP
# address they came from (for any username, which stops one address from spraying a
# password across many accounts). Meanwhile even the right password gets the lockout
# page. A successful login clears that user's own failures (chatsite/security.py).
# Behind a proxy the IP address is only right when daphne runs with --proxy-headers
# and the proxy overwrites X-Forwarded-For (docs/deployment.md): else every client
# shares the proxy's address and five failures lock out everyone.
AXES_HANDLER = "chatsite.security.AxesHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("CHAT_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(
    minutes=int(os.environ.get("CHAT_LOGIN_COOLOFF_MINUTES", "15"))
)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A try during the lockout does not restart the cool-off: someone who keeps retrying
# is let back in on time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "chatsite.security.lockout_response"

# --- Chat -----------------------------------------------------------------------------
CHAT_MESSAGE_MAX_LENGTH = 4000
# HTTP requests run on this many kept threads, each with its database connection
# (chatsite/request_threads.py); more at once each get a thread of their own.
CHAT_REQUEST_THREADS = int(os.environ.get("CHAT_REQUEST_THREADS", "8"))
CHAT_HISTORY_PAGE_SIZE = 50
CHAT_RESUME_LIMIT = int(os.environ.get("CHAT_RESUME_LIMIT", "500"))
# Bytes: a catch-up answer larger than this is a resync instead. Under daphne's
# --websocket-max-message-size (1 MiB by default), which also bounds what it sends.
CHAT_RESUME_MAX_BYTES = int(os.environ.get("CHAT_RESUME_MAX_BYTES", str(512 * 1024)))
# Live connections: how often one re-reads its session (a sign-in ended in a way that
# announces nothing, such as an expiry, ends it within this time; each re-check is two
# queries in the one database thread, so 10,000 sockets at 300 s cost 33 a second);
# how long a socket may send nothing (the browser client pings at least every 30 s)
# before it is closed; how many sockets one user may hold open in one server process.
CHAT_SESSION_RECHECK_SECONDS = float(
    os.environ.get("CHAT_SESSION_RECHECK_SECONDS", "300")
)
CHAT_SOCKET_IDLE_SECONDS = float(os.environ.get("CHAT_SOCKET_IDLE_SECONDS", "90"))
CHAT_MAX_SOCKETS_PER_USER = int(os.environ.get("CHAT_MAX_SOCKETS_PER_USER", "20"))
CHAT_MAX_FRAME_BYTES = int(os.environ.get("CHAT_MAX_FRAME_BYTES", str(64 * 1024)))
CHAT_DEFAULT_ROOM_SLUG = "general"
CHAT_INVITE_DAYS = int(os.environ.get("CHAT_INVITE_DAYS", "7"))
CHAT_DM_MAX_PEOPLE = 8
# "Seen by" shows in direct messages and in rooms of at most this many members.
CHAT_RECEIPTS_MAX_MEMBERS = int(os.environ.get("CHAT_RECEIPTS_MAX_MEMBERS", "20"))
# How many members the composer suggests for an @mention.
CHAT_MENTION_SUGGESTIONS = 8
# Flood control per user, as (burst, refills per second); in Redis when it is set.
CHAT_RATE_LIMITS = {
    "message": (
        int(os.environ.get("CHAT_SEND_BURST", "20")),
        float(os.environ.get("CHAT_SEND_RATE", "1")),
    ),
    "room_create": (5, 1 / 60),
    "dm_create": (10, 1 / 30),
    "invite": (20, 1 / 10),
    "report": (5, 1 / 60),
    "message_edit": (20, 1 / 2),
    "reaction": (30, 2),
    # Clients send one every 3 s while someone types; more is dropped, silently.
    "typing": (4, 1 / 2),
}
CHAT_RATE_LIMIT_PREFIX = "chat:ratelimit"
# Presence (rooms/presence.py): each live connection's entry lapses this many seconds
# after its process last refreshed it (every third of that), so a crashed daphne's
# users go offline within it. A tab idle this long reports itself away.
CHAT_PRESENCE_TTL = float(os.environ.get("CHAT_PRESENCE_TTL", "60"))
CHAT_PRESENCE_IDLE_SECONDS = int(os.environ.get("CHAT_PRESENCE_IDLE_SECONDS", "300"))
CHAT_PRESENCE_PREFIX = "chat:presence"

# --- Logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
        # Failed logins and lockouts are warnings; every successful login is not news.
        "axes": {"level": "WARNING"},
    },
}
