"""The database refuses two active occupancies of one unit that overlap, whatever code path writes them.

PostgreSQL: an exclusion constraint over (resource, [starts_at, ends_at)). SQLite cannot express it, so
two triggers do the same check on INSERT and UPDATE; SQLite runs one writer at a time, so a trigger's
read cannot race another writer.
"""

from django.db import migrations

POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """ALTER TABLE booking_occupancy ADD CONSTRAINT occupancy_no_overlap EXCLUDE USING gist
       (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (is_active)""",
]
POSTGRES_UNDO = ["ALTER TABLE booking_occupancy DROP CONSTRAINT IF EXISTS occupancy_no_overlap"]

_SQLITE_CHECK = """
    WHEN NEW.is_active AND EXISTS (
        SELECT 1 FROM booking_occupancy o
        WHERE o.resource_id = NEW.resource_id AND o.is_active AND o.id IS NOT NEW.id
          AND o.starts_at < NEW.ends_at AND o.ends_at > NEW.starts_at)
    BEGIN SELECT RAISE(ABORT, 'occupancy_no_overlap'); END"""
SQLITE = [
    "CREATE TRIGGER occupancy_no_overlap_insert BEFORE INSERT ON booking_occupancy" + _SQLITE_CHECK,
    "CREATE TRIGGER occupancy_no_overlap_update BEFORE UPDATE OF resource_id, starts_at, ends_at, is_active"
    " ON booking_occupancy" + _SQLITE_CHECK,
]
SQLITE_UNDO = [
    "DROP TRIGGER IF EXISTS occupancy_no_overlap_insert",
    "DROP TRIGGER IF EXISTS occupancy_no_overlap_update",
]


def install(apps, schema_editor):
    for sql in POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    for sql in POSTGRES_UNDO if schema_editor.connection.vendor == "postgresql" else SQLITE_UNDO:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
