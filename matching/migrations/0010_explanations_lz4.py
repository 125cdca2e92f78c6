from django.db import migrations

# A decision's explanation (about 2.5 kB of JSON) is stored with its record and again with its receipt, and
# PostgreSQL compresses each value over 2 kB before it writes it. With its default method (pglz) that
# compression was about a second of the nightly run's upsert at 10k crossing enterprises (18k records and
# as many receipts); lz4 compresses several times faster to about the same size. Only values written from
# now on use it; PostgreSQL reads either. A server built without lz4 (or older than 14) keeps pglz: the
# migration says so and goes on.
COLUMNS = (
    ("matching_matchrecord", "explanation"),
    ("receipts_receipt", "explanation"),
    ("receipts_receipt", "facts"),
)
SET = """
DO $$
BEGIN
    EXECUTE 'ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    RAISE NOTICE USING MESSAGE = 'kept the default compression of {table}.{column}: ' || SQLERRM;
END
$$
"""


def compress_with(method):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for table, column in COLUMNS:
                schema_editor.execute(SET.format(table=table, column=column, method=method))

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0009_unique_pair_covers_decision"),
        ("receipts", "0003_drop_single_column_indexes"),
    ]

    operations = [migrations.RunPython(compress_with("lz4"), compress_with("default"))]
