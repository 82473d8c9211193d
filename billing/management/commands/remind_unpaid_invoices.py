from django.core.management.base import BaseCommand

from billing.services.dunning import invoices_dun_due


class Command(BaseCommand):
    help = ("Email the reminders of unpaid invoices (due date + 3 and + 10 days) and suspend "
            "their services at + 15 days. Safe to run while Celery beat does the same.")

    def handle(self, *args, **options):
        done = invoices_dun_due()
        self.stdout.write(
            f"First reminders: {done['first_reminder_at']}, second reminders: "
            f"{done['second_reminder_at']}, suspensions: {done['suspended_at']}.")
