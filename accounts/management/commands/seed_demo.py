from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import account_create

DEMO_PASSWORD = "demo-portal-2026"
STAFF_PASSWORD = "staff-portal-2026"


class Command(BaseCommand):
    help = "Create the demo customer and a demo support superuser (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Run even when DJANGO_DEBUG is off.")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with known passwords; it only runs "
                               "with DJANGO_DEBUG=1 (or --force).")
        customer = self._ensure(
            nic_handle=f"dm429850{settings.NIC_SUFFIX}", email="demo@portal.example",
            password=DEMO_PASSWORD, first_name="Daniel", last_name="Martín",
            address="12 Calle Mayor", city="Madrid", zip="28013", country="ES",
            phone="+34912345678", language="es",
        )
        staff = self._ensure(
            nic_handle=f"ss000001{settings.NIC_SUFFIX}", email="support@portal.example",
            password=STAFF_PASSWORD, first_name="Support", last_name="Staff",
        )
        if not staff.is_superuser:
            staff.is_staff = staff.is_superuser = True
            staff.save(update_fields=["is_staff", "is_superuser"])
        self.stdout.write(f"Demo customer: {customer.nic_handle} (or {customer.email}) / {DEMO_PASSWORD}")
        self.stdout.write(f"Demo staff (/admin/): {staff.nic_handle} (or {staff.email}) / {STAFF_PASSWORD}")

    def _ensure(self, *, nic_handle, email, password, **profile):
        user = User.objects.filter(nic_handle__lower=nic_handle.lower()).first()
        if user is None:
            user = account_create(nic_handle=nic_handle, email=email, password=password,
                                  send_confirmation=False, **profile)
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
        return user
