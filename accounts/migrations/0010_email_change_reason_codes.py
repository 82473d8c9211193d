"""Email-change reasons become codes (EmailChangeRequest.Reason) instead of English
sentences a template had to parse; what support wrote moves to `staff_note`."""

from django.db import migrations, models

# The sentences earlier versions stored, and the code each becomes.
SENTENCES = {
    "replaced by a new request": "replaced",
    "cancelled by the customer": "cancelled",
    "refused from the current address": "refused",
    "too many wrong codes": "wrong_codes",
    "the new address is now used by another account": "address_taken",
    "the new address was never confirmed": "unconfirmed",
    "account recovery approved": "recovery",
    "code": "code",
    "24 hours without refusal": "no_refusal",
}


def sentences_to_codes(apps, schema_editor):
    EmailChangeRequest = apps.get_model("accounts", "EmailChangeRequest")
    for sentence, code in SENTENCES.items():
        EmailChangeRequest.objects.filter(reason=sentence).update(reason=code)
    supported = EmailChangeRequest.objects.filter(reason__startswith="support: ")
    for change in supported.only("pk", "state", "reason").iterator():
        change.staff_note = change.reason.removeprefix("support: ")
        change.reason = "support_applied" if change.state == "done" else "support_aborted"
        change.save(update_fields=["reason", "staff_note"])
    known = [*SENTENCES.values(), "support_applied", "support_aborted", ""]
    EmailChangeRequest.objects.exclude(reason__in=known).update(reason="")


def codes_to_sentences(apps, schema_editor):
    EmailChangeRequest = apps.get_model("accounts", "EmailChangeRequest")
    for sentence, code in SENTENCES.items():
        EmailChangeRequest.objects.filter(reason=code).update(reason=sentence)
    for change in EmailChangeRequest.objects.filter(
            reason__in=["support_applied", "support_aborted"]).iterator():
        change.reason = f"support: {change.staff_note}"[:255]
        change.save(update_fields=["reason"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0009_recovery_request_processed_by_a_worker'),
    ]

    operations = [
        migrations.AddField(
            model_name='emailchangerequest',
            name='staff_note',
            field=models.TextField(blank=True, verbose_name='note from support'),
        ),
        migrations.RunPython(sentences_to_codes, codes_to_sentences),
        migrations.AlterField(
            model_name='emailchangerequest',
            name='reason',
            field=models.CharField(blank=True, choices=[('replaced', 'Replaced by a new request'), ('cancelled', 'Cancelled by the customer'), ('refused', 'Refused from the current address'), ('wrong_codes', 'Too many wrong codes'), ('address_taken', 'The new address is now used by another account'), ('unconfirmed', 'The new address was never confirmed'), ('recovery', 'Account recovery approved'), ('support_aborted', 'Aborted by support'), ('code', 'Applied with the verification code'), ('no_refusal', 'Applied after 24 hours without refusal'), ('support_applied', 'Applied by support')], max_length=32, verbose_name='reason'),
        ),
    ]
