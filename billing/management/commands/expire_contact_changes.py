from django.core.management.base import BaseCommand

from billing.services.contacts import contact_changes_expire_due


class Command(BaseCommand):
    help = ("Expire the contact-change requests not accepted by both accounts within 7 days. "
            "Safe to run while Celery beat does the same.")

    def handle(self, *args, **options):
        expired = contact_changes_expire_due()
        self.stdout.write(f"Expired {expired} contact change request(s).")
