"""The database itself refuses to change a legal record, whatever code path tries: issued invoices and
their lines, payments, rendered documents and period closings. Corrections are new rows (credit notes,
reversing payments), never edits."""

from django.db import migrations

# (table, trigger name, PostgreSQL condition on OLD/NEW, the same for SQLite, events)
_GUARDS = [
    ("billing_invoice", "invoice_issued_frozen", "OLD.status = 'issued'", "OLD.status = 'issued'",
     ["UPDATE", "DELETE"]),
    ("billing_invoiceline", "invoice_line_frozen_new",
     "EXISTS (SELECT 1 FROM billing_invoice i WHERE i.id = NEW.invoice_id AND i.status = 'issued')",
     "EXISTS (SELECT 1 FROM billing_invoice i WHERE i.id = NEW.invoice_id AND i.status = 'issued')",
     ["INSERT", "UPDATE"]),
    ("billing_invoiceline", "invoice_line_frozen_old",
     "EXISTS (SELECT 1 FROM billing_invoice i WHERE i.id = OLD.invoice_id AND i.status = 'issued')",
     "EXISTS (SELECT 1 FROM billing_invoice i WHERE i.id = OLD.invoice_id AND i.status = 'issued')",
     ["UPDATE", "DELETE"]),
    ("billing_payment", "payment_append_only", "TRUE", "1", ["UPDATE", "DELETE"]),
    ("billing_periodclosing", "closing_append_only", "TRUE", "1", ["UPDATE", "DELETE"]),
    # Only the e-mail timestamp of a rendered document may change.
    ("billing_invoicedocument", "document_frozen",
     "NEW.sha256 IS DISTINCT FROM OLD.sha256 OR NEW.xml IS DISTINCT FROM OLD.xml"
     " OR NEW.pdf IS DISTINCT FROM OLD.pdf OR NEW.invoice_id IS DISTINCT FROM OLD.invoice_id",
     "NEW.sha256 IS NOT OLD.sha256 OR NEW.xml IS NOT OLD.xml OR NEW.pdf IS NOT OLD.pdf"
     " OR NEW.invoice_id IS NOT OLD.invoice_id",
     ["UPDATE"]),
    ("billing_invoicedocument", "document_undeletable", "TRUE", "1", ["DELETE"]),
]


def _postgres(table, name, condition, events):
    row = "OLD" if events == ["DELETE"] else "NEW"
    return [
        f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF {condition} THEN
                RAISE EXCEPTION 'legal record is immutable: {name}' USING ERRCODE = 'raise_exception';
              END IF;
              RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE {row} END;
            END $$""",
        f"CREATE TRIGGER {name} BEFORE {' OR '.join(events)} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]


def _sqlite(table, name, condition, events):
    return [
        f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} FOR EACH ROW WHEN {condition}"
        f" BEGIN SELECT RAISE(ABORT, 'legal record is immutable: {name}'); END"
        for event in events
    ]


def install(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table, name, pg_condition, sqlite_condition, events in _GUARDS:
        if postgres:
            statements = _postgres(table, name, pg_condition, events)
        else:
            statements = _sqlite(table, name, sqlite_condition, events)
        for sql in statements:
            schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for table, name, _pg, _sqlite_condition, events in _GUARDS:
        if postgres:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            for event in events:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{event.lower()}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
