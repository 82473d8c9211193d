"""Recovery requests are written as they come and processed by a worker, which looks the
NIC handle up: `user` may be empty (no account matched), the typed handle, the page's
language and the processing time are kept. Requests made before were processed on the
spot, so they are marked processed (the re-queue job must not send them again)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def mark_existing_requests_processed(apps, schema_editor):
    RecoveryRequest = apps.get_model("accounts", "RecoveryRequest")
    User = apps.get_model("accounts", "User")
    account = User.objects.filter(pk=OuterRef("user_id"))
    RecoveryRequest.objects.filter(processed_at=None).update(
        processed_at=F("created_at"),
        nic_handle=Subquery(account.values("nic_handle")[:1]),
        language=Subquery(account.values("language")[:1]),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_user_names_refuse_control_characters'),
    ]

    operations = [
        migrations.AddField(
            model_name='recoveryrequest',
            name='language',
            field=models.CharField(blank=True, max_length=8, verbose_name='language'),
        ),
        migrations.AddField(
            model_name='recoveryrequest',
            name='nic_handle',
            field=models.CharField(blank=True, max_length=32, verbose_name='customer ID entered'),
        ),
        migrations.AddField(
            model_name='recoveryrequest',
            name='processed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='processed at'),
        ),
        migrations.AlterField(
            model_name='recoveryrequest',
            name='old_email',
            field=models.EmailField(blank=True, max_length=254, verbose_name='address at the time'),
        ),
        migrations.AlterField(
            model_name='recoveryrequest',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='recovery_requests', to=settings.AUTH_USER_MODEL, verbose_name='customer'),
        ),
        migrations.RunPython(mark_existing_requests_processed, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='recoveryrequest',
            index=models.Index(condition=models.Q(('processed_at', None)), fields=['created_at'], name='recovery_unprocessed_idx'),
        ),
    ]
