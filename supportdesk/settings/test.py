"""Test settings: fast hashing, no throttling surprises, mail kept in memory."""

from .base import *  # noqa: F403
from .base import CELERY_BROKER_URL, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; tests/integration starts a real worker on the broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TEST_BROKER_URL = CELERY_BROKER_URL
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The suite signs in, answers surveys and posts webhooks from one address far faster than people
# do; tests/security sets tight limits where it checks them.
DESK_LOGIN_RATE_LIMIT = DESK_SURVEY_RATE_LIMIT = DESK_WEBHOOK_RATE_LIMIT = "100000/60"
