from django.db import migrations

# The full pass and the nightly run read every stored decision of a range of enterprises: enterprise,
# version, outcome, verified flag and state letters, never the explanation. A record's row is mostly its
# explanation (about 1.5 kB, rarely long enough for PostgreSQL to move it out of the row), so reading
# those few columns from the table means reading every record's whole row. The unique index the records
# are looked up by carries them (INCLUDE), and the reads are index-only scans. PostgreSQL only (SQLite
# has no INCLUDE); the model keeps the plain constraint, whose name and key columns are unchanged.
COVERED = (
    "ALTER TABLE matching_matchrecord DROP CONSTRAINT match_record_unique_pair, "
    "ADD CONSTRAINT match_record_unique_pair UNIQUE (enterprise_id, policy_version_id) "
    "INCLUDE (outcome, verified, states)"
)
PLAIN = (
    "ALTER TABLE matching_matchrecord DROP CONSTRAINT match_record_unique_pair, "
    "ADD CONSTRAINT match_record_unique_pair UNIQUE (enterprise_id, policy_version_id)"
)


def cover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COVERED)


def uncover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PLAIN)


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0008_drop_single_column_indexes"),
    ]

    operations = [migrations.RunPython(cover, uncover)]
