"""The trigram indexes of 0022 without GIN's pending list (`fastupdate = off`), on
PostgreSQL only.

With the default `fastupdate = on`, new customers' trigrams wait in an unsorted pending
list (up to `gin_pending_list_limit`, 4 MB) until a vacuum merges them, and every search
reads the whole list: measured at a million customers after 50,000 signups, a surname
search took 36 ms of SQL instead of 4, and a two-letter one 430 ms instead of 31. A
customer signs up far less often than staff search, so each index is updated as the row
is written instead. The lists left are merged now."""

import importlib

from django.db import migrations

trigram = importlib.import_module("accounts.migrations.0022_customer_search_trigram_indexes")


def pending_list(enabled):
    def change(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in trigram.COLUMNS:
            name = trigram.index_name(column)
            schema_editor.execute(
                f"ALTER INDEX IF EXISTS {name} SET (fastupdate = {'on' if enabled else 'off'})")
            if not enabled:
                schema_editor.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")
    return change


class Migration(migrations.Migration):

    dependencies = [("accounts", "0022_customer_search_trigram_indexes")]

    operations = [migrations.RunPython(pending_list(False), pending_list(True), elidable=False)]
