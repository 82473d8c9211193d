from django.db import migrations
from django.db.models import F


def mark_rendered(apps, schema_editor):
    """Before the marker, a row was told rendered by its subject: every row queued one by
    one, and the bulk rows a worker has rendered. Their creation time stands in for the
    moment they were rendered; the others wait for a worker, unrendered."""
    OutboundEmail = apps.get_model("notifications", "OutboundEmail")
    OutboundEmail.objects.filter(subject="").update(rendered_at=None)
    OutboundEmail.objects.exclude(subject="").update(rendered_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0004_rendered_at"),
    ]

    operations = [
        migrations.RunPython(mark_rendered, migrations.RunPython.noop, elidable=True),
    ]
