"""Receipts are immutable in the database itself.

PostgreSQL: UPDATE and DELETE raise (a row trigger). TRUNCATE is left to the owner (test runs flush
tables with it); production's role should hold INSERT and SELECT only on this table (deploy/SECURITY.md).
SQLite (`make run`): UPDATE raises; DELETE stays possible because Django's test flush deletes rows there,
and the model's guards refuse it.
"""

from django.db import migrations

PG_FORBID = """
CREATE OR REPLACE FUNCTION receipts_receipt_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'receipts_receipt is immutable (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS receipts_receipt_immutable ON receipts_receipt;
CREATE TRIGGER receipts_receipt_immutable BEFORE UPDATE OR DELETE ON receipts_receipt
    FOR EACH ROW EXECUTE FUNCTION receipts_receipt_immutable();
"""
PG_ALLOW = """
DROP TRIGGER IF EXISTS receipts_receipt_immutable ON receipts_receipt;
DROP FUNCTION IF EXISTS receipts_receipt_immutable();
"""
SQLITE_FORBID = """
CREATE TRIGGER IF NOT EXISTS receipts_receipt_no_update BEFORE UPDATE ON receipts_receipt
BEGIN
    SELECT RAISE(ABORT, 'receipts_receipt is immutable (UPDATE refused)');
END;
"""
SQLITE_ALLOW = "DROP TRIGGER IF EXISTS receipts_receipt_no_update;"


def forbid(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORBID)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORBID)


def allow(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_ALLOW)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_ALLOW)


class Migration(migrations.Migration):
    dependencies = [("receipts", "0001_receipt")]
    operations = [migrations.RunPython(forbid, allow)]
