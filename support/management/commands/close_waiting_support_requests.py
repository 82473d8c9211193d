from django.core.management.base import BaseCommand

from support import services


class Command(BaseCommand):
    help = ("Close the support requests that have waited for the customer for 14 days, "
            "with a notice (what the beat job does).")

    def handle(self, *args, **options):
        closed = services.support_requests_auto_close()
        self.stdout.write(f"{closed} request(s) closed.")
