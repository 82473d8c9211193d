"""Trigram indexes for the staff's text search of customers (admin `?q=`), on
PostgreSQL only: Django's search is `UPPER(column::text) LIKE UPPER('%term%')` over the
admin's search fields, which a GIN index of `UPPER(column::text) gin_trgm_ops` answers
without reading the table. Other databases (SQLite in development) keep scanning."""

from django.db import migrations

# The admin's search_fields (accounts.admin.UserAdmin) searched as text.
COLUMNS = ("nic_handle", "email", "spare_email", "first_name", "last_name", "phone",
           "organisation")


def index_name(column):
    return f"user_{column}_trgm_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {index_name(column)} ON accounts_user '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index_name(column)}")


class Migration(migrations.Migration):

    dependencies = [("accounts", "0021_customer_list_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
