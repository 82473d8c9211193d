from django.core.management.base import BaseCommand

from accounts.services import addresses_normalise


class Command(BaseCommand):
    help = ("List the stored email addresses that are not in their normal form (NFKC, no "
            "invisible characters, lower case, ASCII domain); with --apply, rewrite those "
            "whose normal form is free. Clashes and refused addresses are left for staff.")

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="rewrite what can be")

    def handle(self, *args, apply=False, **options):
        counts = {}
        for user, field, stored, normal, outcome in addresses_normalise(apply=apply):
            counts[outcome] = counts.get(outcome, 0) + 1
            self.stdout.write(f"{user.nic_handle} {field}: {stored!a} -> {normal or '-'} ({outcome})")
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
        self.stdout.write(summary or "Every stored address is in its normal form.")
