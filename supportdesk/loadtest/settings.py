"""The load run's web processes: production's settings, with three departures.

The run starts gunicorn with ``DJANGO_SETTINGS_MODULE=supportdesk.loadtest.settings`` and the
environment production reads (``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL``, ...). What
would collide with other work on the same machine moves: the collected static files go to the
run's own folder, and cache keys (rate-limit counters, presence) carry the run's prefix. And
the static files keep production's hashed names without the gzip and Brotli copies, which
WhiteNoise would spend most of a minute compressing for a run that never fetches one (a
working browser has them cached).
"""

from supportdesk.settings.production import *  # noqa: F403
from supportdesk.settings.production import CACHES, STORAGES, env

STATIC_ROOT = env.path("LOADTEST_STATIC_ROOT")
CACHES["default"]["KEY_PREFIX"] = env("LOADTEST_CACHE_PREFIX", default="loadtest")
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
