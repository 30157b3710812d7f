"""The database itself refuses to change a closed month: its statement, settlement lines and transfers,
whatever code path tries; and a key a statement used can no longer change (a new vote is a new version).
Installed the way billing's migration 0002 installs its guards, on PostgreSQL and on SQLite."""

from django.db import migrations

_CLOSED = "EXISTS (SELECT 1 FROM clearing_clearingstatement s WHERE s.id = {row}.statement_id AND s.status = 'closed')"
_USED = "EXISTS (SELECT 1 FROM clearing_clearingstatement s WHERE s.key_id = OLD.id)"

# (table, trigger name, PostgreSQL condition, SQLite condition, events)
GUARDS = [
    ("clearing_clearingstatement", "clearing_statement_closed", "OLD.status = 'closed'", "OLD.status = 'closed'",
     ["UPDATE", "DELETE"]),
    ("clearing_settlementline", "clearing_line_closed_new", _CLOSED.format(row="NEW"), _CLOSED.format(row="NEW"),
     ["INSERT", "UPDATE"]),
    ("clearing_settlementline", "clearing_line_closed_old", _CLOSED.format(row="OLD"), _CLOSED.format(row="OLD"),
     ["UPDATE", "DELETE"]),
    ("clearing_transfer", "clearing_transfer_closed_new", _CLOSED.format(row="NEW"), _CLOSED.format(row="NEW"),
     ["INSERT", "UPDATE"]),
    ("clearing_transfer", "clearing_transfer_closed_old", _CLOSED.format(row="OLD"), _CLOSED.format(row="OLD"),
     ["UPDATE", "DELETE"]),
    ("clearing_clearingkey", "clearing_key_used", _USED, _USED, ["UPDATE", "DELETE"]),
]


def _postgres(table, name, condition, events):
    row = "OLD" if events == ["DELETE"] else "NEW"
    return [
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF {condition} THEN
                RAISE EXCEPTION 'closed clearing month is immutable: {name}' USING ERRCODE = 'raise_exception';
              END IF;
              RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE {row} END;
            END $$""",
        f"CREATE TRIGGER {name} BEFORE {' OR '.join(events)} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def _sqlite(table, name, condition, events):
    return [
        f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} FOR EACH ROW WHEN {condition}"
        f" BEGIN SELECT RAISE(ABORT, 'closed clearing month is immutable: {name}'); END"
        for event in events
    ]


def install(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table, name, pg_condition, sqlite_condition, events in GUARDS:
        statements = (
            _postgres(table, name, pg_condition, events) if postgres else _sqlite(table, name, sqlite_condition, events)
        )
        for sql in statements:
            schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table, name, _pg, _sqlite_condition, events in GUARDS:
        if postgres:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            for event in events:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{event.lower()}")


class Migration(migrations.Migration):
    dependencies = [("clearing", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
