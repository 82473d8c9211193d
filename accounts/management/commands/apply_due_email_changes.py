from django.core.management.base import BaseCommand

from accounts.services import email_changes_abort_unconfirmed, email_changes_apply_due


class Command(BaseCommand):
    help = ("Apply the primary-email changes nobody refused within 24 hours, and abort the "
            "requests whose new address was not confirmed within 7 days. Safe to run while "
            "Celery beat does the same.")

    def handle(self, *args, **options):
        applied = email_changes_apply_due()
        aborted = email_changes_abort_unconfirmed()
        self.stdout.write(f"Applied {applied} email change(s); aborted {aborted} unconfirmed.")
