"""Settings shared by every environment; each value comes from the environment.

Without any environment the desk runs on an embedded default: SQLite in ``var/`` and Celery
tasks executed in-process. ``production.py`` tightens this and refuses to start without secrets.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="django-insecure-development-only-key-never-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "supportdesk",
    "customers",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Outside axes, so that its lockout answer (429) gets a Retry-After too.
    "supportdesk.rate_limits.PublicRateLimitMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
WSGI_APPLICATION = "supportdesk.wsgi.application"
ASGI_APPLICATION = "supportdesk.asgi.application"

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
                "supportdesk.context_processors.navigation",
            ],
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'desk.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a busy timeout keeps a second writer (a task, a request) waiting
    # instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The desk's queries are short and indexed; PostgreSQL's JIT compiler, made for long
    # analytical scans, would spend tens of milliseconds compiling each one that the planner
    # overestimates (a search term's matches). DATABASE_JIT=on gives it back.
    jit = "on" if env.bool("DATABASE_JIT", default=False) else "off"
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c jit={jit}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "supportdesk.auth_backends.DeskModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:inbox"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five failures for one username from one address lock it for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Security headers every environment shares; production.py adds HTTPS-only settings.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No inline script anywhere: htmx comes from django-htmx's static files and behaviour lives in
# static/desk/desk.js. Inline styles are refused too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
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
    },
}

email_config = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(email_config)
# A mail server that accepts the connection and then stalls must not hold a worker until the task limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="support@desk.example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Celery: JSON only, late acknowledgement so a task whose worker dies is redelivered, hard
# limits so a stuck task cannot hold a worker forever. Without a broker, tasks run in-process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Tasks sent without a queue of their own (including those tasks send) go here.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# A task a worker took but never acknowledged (the worker died) goes back to the queue after the
# visibility timeout; it must outlast the longest task and the longest retry countdown (1 hour,
# tickets/tasks.py), or Redis hands a waiting task to a second worker. JSON in the environment
# can shorten the timeout and the restore sweep (the fault tests do).
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={"visibility_timeout": 3600 * 3})
CELERY_RESULT_EXPIRES = 3600 * 24
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "tickets.tasks.outbox_sweep",
        "schedule": crontab(minute="*/5"),
    },
    "sla-sweep": {
        "task": "tickets.sla_tasks.sla_sweep",
        "schedule": crontab(minute="*/5"),
    },
    "csat-sweep": {
        "task": "tickets.csat_tasks.csat_sweep",
        "schedule": crontab(minute="*/10"),
    },
    "dashboard-snapshots": {
        "task": "tickets.dashboard_tasks.dashboard_snapshots_refresh",
        "schedule": crontab(minute="*/5"),
    },
    # Retention rules and expired exports (customers/privacy/retention.py, docs/privacy.md).
    "privacy-retention": {
        "task": "customers.tasks.retention_daily",
        "schedule": crontab(hour=3, minute=30),
    },
    # Suggested next actions (customers/suggestions/jobs.py, docs/suggestions.md).
    "suggestions-churn": {
        "task": "customers.suggestions.tasks.churn_refresh_all",
        "schedule": crontab(hour=2, minute=15),
    },
    "suggestions-affinity": {
        "task": "customers.suggestions.tasks.product_affinity_refresh",
        "schedule": crontab(hour=2, minute=45),
    },
    "suggestions-vip-threshold": {
        "task": "customers.suggestions.tasks.vip_threshold_refresh",
        "schedule": crontab(minute=20),
    },
}

REST_FRAMEWORK = {
    # Integrations send ``Authorization: Bearer <key>``; signed-in desk users use their session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "supportdesk.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["supportdesk.api.permissions.DeskApiPermission"],
    "DEFAULT_SCHEMA_CLASS": "supportdesk.api.schema.DeskAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "supportdesk.api.pagination.DeskCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "supportdesk.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Support desk API",
    "DESCRIPTION": (
        "Customers, orders, events, consents and conversations. Authenticate with "
        "`Authorization: Bearer <key>` (create one with `manage.py create_api_key`). Errors always read "
        '`{"error": {"code", "message", "fields"}}`. Lists are cursor-paginated: follow `next`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.models.Ticket.Status",
        "OrderStatusEnum": "customers.models.Order.Status",
        "RefundStatusEnum": "customers.models.Refund.Status",
        "JobStatusEnum": "customers.models.Job.Status",
        "MessageDeliveryEnum": "tickets.models.Message.Delivery",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Inbound webhooks: one HMAC secret per source. Without one the source refuses every delivery
# (a development default applies only while DEBUG is on). Deliveries older than the tolerance
# are refused, so a captured request cannot be replayed later.
DESK_WEBHOOK_SECRETS = {
    "orders": env("DESK_WEBHOOK_SECRET_ORDERS", default=""),
    "email": env("DESK_WEBHOOK_SECRET_EMAIL", default=""),
    "chat": env("DESK_WEBHOOK_SECRET_CHAT", default=""),
}
DESK_WEBHOOK_TOLERANCE_SECONDS = env.int("DESK_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Outbound webhooks never reach loopback or private addresses unless this is on (tests, on-premise).
DESK_WEBHOOKS_OUT_ALLOW_PRIVATE = env.bool("DESK_WEBHOOKS_OUT_ALLOW_PRIVATE", default=False)
# Inbound email: the largest message accepted and the largest attachment stored.
DESK_EMAIL_MAX_BYTES = env.int("DESK_EMAIL_MAX_BYTES", default=30 * 1024 * 1024)
DESK_ATTACHMENT_MAX_BYTES = env.int("DESK_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
# Live chat: the store origins allowed to embed the widget's frame, and the visitors' rate limit.
DESK_CHAT_FRAME_ANCESTORS = env.list("DESK_CHAT_FRAME_ANCESTORS", default=[])
DESK_CHAT_RATE_LIMIT = env("DESK_CHAT_RATE_LIMIT", default="20/60")
DESK_CHAT_POLL_SECONDS = env.int("DESK_CHAT_POLL_SECONDS", default=3)
# Requests per client address to the other public endpoints (supportdesk/rate_limits.py): login
# attempts, survey pages, and webhook deliveries per source (generous: senders burst).
DESK_LOGIN_RATE_LIMIT = env("DESK_LOGIN_RATE_LIMIT", default="30/60")
DESK_SURVEY_RATE_LIMIT = env("DESK_SURVEY_RATE_LIMIT", default="30/60")
DESK_WEBHOOK_RATE_LIMIT = env("DESK_WEBHOOK_RATE_LIMIT", default="3000/60")
# Outbound delivery (tickets/tasks.py): the first retry waits this long, each next one twice as long.
DESK_DELIVERY_RETRY_SECONDS = env.float("DESK_DELIVERY_RETRY_SECONDS", default=30)
# The beat sweeper re-enqueues outbound messages still queued after this long (broker was down).
DESK_OUTBOX_STALE_SECONDS = env.int("DESK_OUTBOX_STALE_SECONDS", default=600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Desk settings.
DESK_SIGNING_SALT_SURVEY = "tickets.csat.survey"
DESK_CONTINUE_TICKET_DAYS = env.int("DESK_CONTINUE_TICKET_DAYS", default=14)

# SLA and CSAT (tickets/sla.py, tickets/csat.py, docs/dashboards.md).
DESK_SLA_DUE_SOON_MINUTES = env.int("DESK_SLA_DUE_SOON_MINUTES", default=30)
DESK_CSAT_DELAY_HOURS = env.float("DESK_CSAT_DELAY_HOURS", default=24)
DESK_CSAT_EXPIRY_DAYS = env.int("DESK_CSAT_EXPIRY_DAYS", default=28)
DESK_CSAT_LOW_RATING = env.int("DESK_CSAT_LOW_RATING", default=2)
# The survey sweep looks this far back for solved tickets without a survey (older ones are never surveyed).
DESK_CSAT_SWEEP_DAYS = env.int("DESK_CSAT_SWEEP_DAYS", default=7)
# Absolute links in surveys sent by email or chat.
DESK_SITE_URL = env("DESK_SITE_URL", default="http://127.0.0.1:8000")
# Dashboard periods start and end at midnight in this timezone.
DESK_REPORT_TIME_ZONE = env("DESK_REPORT_TIME_ZONE", default=TIME_ZONE)
# Computed dashboard views are served for this long (0: always computed from the raw rows).
DESK_DASHBOARD_SNAPSHOT_SECONDS = env.int("DESK_DASHBOARD_SNAPSHOT_SECONDS", default=300)

# Consent and privacy (customers/privacy/, docs/privacy.md).
DESK_EXPORT_TTL_DAYS = env.int("DESK_EXPORT_TTL_DAYS", default=7)
DESK_PREFERENCE_LINK_MAX_AGE_DAYS = env.int("DESK_PREFERENCE_LINK_MAX_AGE_DAYS", default=90)
DESK_PREFERENCE_RATE_LIMIT = env("DESK_PREFERENCE_RATE_LIMIT", default="30/60")
DESK_CONSENT_IMPORT_MAX_BYTES = env.int("DESK_CONSENT_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)

# Suggested next actions (customers/suggestions/, docs/suggestions.md).
DESK_SUGGESTIONS_SHOWN = env.int("DESK_SUGGESTIONS_SHOWN", default=3)
DESK_SUGGESTIONS_DISMISS_DAYS = env.int("DESK_SUGGESTIONS_DISMISS_DAYS", default=7)
DESK_SUGGESTIONS_ACCEPT_HIDE_HOURS = env.int("DESK_SUGGESTIONS_ACCEPT_HIDE_HOURS", default=24)
DESK_SUGGESTIONS_MAX_SNOOZE_DAYS = env.int("DESK_SUGGESTIONS_MAX_SNOOZE_DAYS", default=30)
DESK_SUGGESTIONS_CHURN_THRESHOLD = env.float("DESK_SUGGESTIONS_CHURN_THRESHOLD", default=0.6)
DESK_SUGGESTIONS_VIP_TOP_SHARE = env.float("DESK_SUGGESTIONS_VIP_TOP_SHARE", default=0.05)
DESK_SUGGESTIONS_VIP_CACHE_SECONDS = env.int("DESK_SUGGESTIONS_VIP_CACHE_SECONDS", default=6 * 3600)
DESK_SUGGESTIONS_AFFINITY_DAYS = env.int("DESK_SUGGESTIONS_AFFINITY_DAYS", default=365)
DESK_SUGGESTIONS_AFFINITY_MIN_TOGETHER = env.int("DESK_SUGGESTIONS_AFFINITY_MIN_TOGETHER", default=2)
DESK_SUGGESTIONS_AFFINITY_PER_PRODUCT = env.int("DESK_SUGGESTIONS_AFFINITY_PER_PRODUCT", default=20)
DESK_SUGGESTIONS_TOKEN_MAX_AGE_DAYS = env.int("DESK_SUGGESTIONS_TOKEN_MAX_AGE_DAYS", default=7)
DESK_SUGGESTIONS_CHURN_DEBOUNCE_SECONDS = env.int("DESK_SUGGESTIONS_CHURN_DEBOUNCE_SECONDS", default=60)
