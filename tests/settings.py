"""Settings for the test suite: the project's own, with a throwaway key and fast password hashing."""

import os

os.environ.setdefault("LIEUX_INSECURE_DEV_KEY", "1")

from lieux.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Tests assert the English source strings; tests/web/test_french_default.py checks the French default.
LANGUAGE_CODE = "en"
LIEUX_DELIVER_INVOICES = False  # rendering is tested on its own; most tests only need the records
