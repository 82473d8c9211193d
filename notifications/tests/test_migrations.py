from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("notifications", "0003_sealed_secrets")]
AFTER = [("notifications", "0005_backfill_rendered_at")]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_marker_are_marked_by_whether_they_have_a_subject():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps.get_model("notifications",
                                                                   "OutboundEmail")
        created = timezone.now() - timedelta(days=3)
        common = {"kind": "email_changed", "to_address": "a@example.org", "language": "en",
                  "body_html": "", "created_at": created}
        rendered = old.objects.create(subject="Hello", body_text="Hi", **common)
        waiting = old.objects.create(subject="", body_text="", context={"x": 1}, **common)

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps.get_model("notifications",
                                                                  "OutboundEmail")
        assert new.objects.get(pk=rendered.pk).rendered_at == created
        assert new.objects.get(pk=waiting.pk).rendered_at is None
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
