"""Settings for the test suite: the real settings, with a fast hasher, in-memory email
and eager Celery. Service tests switch eagerness off themselves (see conftest.py)."""

import os

# A developer's `.env` (written by `make run`: debug on, a key) is not read: the suite runs
# on these settings and the real environment only (CI's DATABASE_URL and friends). Set in
# os.environ, so the workers and servers that tests start ignore it too.
os.environ["PORTAL_ENV_FILE"] = ""
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Eager tasks run inside each test, where rows queued earlier in the test may never
# have had their task published: a batch would send those too. One row per task keeps
# each test's outbox to what it caused; the batch tests set their own size.
EMAIL_DELIVERY_BATCH = 1
