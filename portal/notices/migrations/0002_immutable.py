"""Decision notices are immutable in the database itself: UPDATE and DELETE raise (PostgreSQL).

TRUNCATE is left to the owner (test runs flush tables with it). The development tools' benchmarks remove the
synthetic notices they caused with `SET LOCAL huiqi.purge_notices = 'on'` (portal.notices.purge, called only
by devtools); UPDATE is refused always. A production role should hold INSERT and SELECT only on this table.
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION notices_decisionnotice_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('huiqi.purge_notices', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'notices_decisionnotice is immutable (%% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS notices_decisionnotice_immutable ON notices_decisionnotice;
CREATE TRIGGER notices_decisionnotice_immutable BEFORE UPDATE OR DELETE ON notices_decisionnotice
    FOR EACH ROW EXECUTE FUNCTION notices_decisionnotice_immutable();
"""
ALLOW = """
DROP TRIGGER IF EXISTS notices_decisionnotice_immutable ON notices_decisionnotice;
DROP FUNCTION IF EXISTS notices_decisionnotice_immutable();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]
    operations = [migrations.RunPython(forbid, allow)]
