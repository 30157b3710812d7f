"""The bench database: created when missing, migrated with Django, reached with Django or plain psycopg.

The bench only ever writes to the database of BENCH_DATABASE_URL, and refuses to wipe one it did not
create (the `bench_dataset` marker table says it did).
"""

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1/lieux_bench"


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def server_env(url: str) -> dict[str, str]:
    """Environment for any process running the platform against the bench database."""
    return {
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "lieux.settings",
        "LIEUX_INSECURE_DEV_KEY": "1",
        "DEBUG": "0",
    }


def ensure_database(url: str) -> bool:
    """Create the database when it does not exist; True when it was created."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit(f"BENCH_DATABASE_URL names no database: {url}")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def setup_django(url: str) -> None:
    os.environ.update(server_env(url))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def connect(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=5)
