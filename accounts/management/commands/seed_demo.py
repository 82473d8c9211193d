"""The demo data of `make run`: a customer with services, orders and invoices, a support
agent and a superuser. Idempotent: a second run changes nothing that is already there
(and puts the demo staff back in their roles)."""

import base64
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.oath import totp

from accounts.models import AuthenticatorApp, User
from accounts.security import security_page_changed
from accounts.services import account_create
from billing.models import Invoice, Product, Service
from billing.services.invoices import invoice_mark_paid
from billing.services.orders import order_place, order_quote

DEMO_PASSWORD = "demo-portal-2026"
AGENT_PASSWORD = "staff-portal-2026"
ADMIN_PASSWORD = "admin-portal-2026"
# Authenticator seeds of the demo staff, printed for the demo only: staff need a second
# factor for /admin/. Any authenticator app takes the base32 form.
AGENT_TOTP_KEY = "3132333435363738393031323334353637383930"
ADMIN_TOTP_KEY = "3938373635343332313039383736353433323130"
DEMO_DEVICE = "Demo authenticator"
# (product code, period, service name, paid?, days until expiry once paid)
DEMO_ORDERS = [
    ("domain-com", "year", "daniel-martin.com", True, 12),
    ("web-hosting", "year", "daniel-martin.com", True, None),
    ("web-hosting", "month", "tienda-martin.com", False, None),
]


class Command(BaseCommand):
    help = ("Create the demo customer (with services, orders and invoices), a demo support "
            "agent and a demo superuser (development only).")

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="Run even when DJANGO_DEBUG is off.")
        parser.add_argument("--code", metavar="NIC_HANDLE",
                            help="Only print the current code of a demo staff account's "
                                 "demo authenticator.")

    @transaction.atomic
    def handle(self, *args, force=False, code=None, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with known passwords; it only runs "
                               "with DJANGO_DEBUG=1 (or --force).")
        if code:
            self.stdout.write(_current_code(code))
            return
        customer = self._ensure(
            nic_handle=f"dm429850{settings.NIC_SUFFIX}", email="demo@portal.example",
            password=DEMO_PASSWORD, first_name="Daniel", last_name="Martín",
            address="12 Calle Mayor", city="Madrid", zip="28013", country="ES",
            phone="+34912345678", language="es",
        )
        agent = self._ensure(
            nic_handle=f"ss000001{settings.NIC_SUFFIX}", email="support@portal.example",
            password=AGENT_PASSWORD, first_name="Sara", last_name="Soporte",
        )
        admin = self._ensure(
            nic_handle=f"sa000002{settings.NIC_SUFFIX}", email="admin@portal.example",
            password=ADMIN_PASSWORD, first_name="Samuel", last_name="Admin",
        )
        # An agent works in the Support group and is no superuser; the superuser is apart.
        User.objects.filter(pk=agent.pk).update(is_staff=True, is_superuser=False)
        agent.groups.add(Group.objects.get(name="Support"))
        User.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
        self._second_factor(agent, AGENT_TOTP_KEY)
        self._second_factor(admin, ADMIN_TOTP_KEY)
        self._billing(customer, paid_by=admin)

        self.stdout.write(f"Demo customer: {customer.nic_handle} (or {customer.email}) / "
                          f"{DEMO_PASSWORD}")
        self.stdout.write(f"Demo support agent (/admin/): {agent.nic_handle} (or {agent.email}) "
                          f"/ {AGENT_PASSWORD}, authenticator seed {_base32(AGENT_TOTP_KEY)}")
        self.stdout.write(f"Demo superuser (/admin/): {admin.nic_handle} (or {admin.email}) / "
                          f"{ADMIN_PASSWORD}, authenticator seed {_base32(ADMIN_TOTP_KEY)}")

    def _ensure(self, *, nic_handle, email, password, **profile):
        user = User.objects.filter(nic_handle__lower=nic_handle.lower()).first()
        if user is None:
            user = account_create(nic_handle=nic_handle, email=email, password=password,
                                  send_confirmation=False, **profile)
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
        return user

    def _second_factor(self, user, hex_key):
        if demo_authenticator(user) is not None:
            return
        AuthenticatorApp.objects.create(user=user, name=DEMO_DEVICE, confirmed=True,
                                        sealed_key=AuthenticatorApp.seal(bytes.fromhex(hex_key)))
        security_page_changed(user_id=user.pk)

    def _billing(self, customer, *, paid_by):
        """The demo orders, placed as the order form places them, once: two paid (their
        services delivered, the domain expiring in 12 days with automatic renewal off) and
        one awaiting payment."""
        if customer.orders.exists():
            return
        now = timezone.now()
        for code, period, name, paid, expires_in_days in DEMO_ORDERS:
            product = Product.objects.filter(code=code).first()
            if product is None or product.price_for(period) is None:
                continue
            quote = order_quote(product=product, period=period, customer=customer)
            order = order_place(customer=customer, product=product, period=period,
                                service_name=name, quoted_total=quote.total_amount, now=now)
            if not paid:
                continue
            invoice_mark_paid(invoice=Invoice.objects.get(order=order), staff_user=paid_by,
                              now=now)
            if expires_in_days is not None:
                Service.objects.filter(order_lines__order=order).update(
                    expires_at=now + timedelta(days=expires_in_days), auto_renew=False)


def demo_authenticator(user):
    """The demo authenticator of a demo staff account, or None."""
    return AuthenticatorApp.objects.filter(user=user, name=DEMO_DEVICE).first()


def _current_code(nic_handle):
    user = User.objects.filter(nic_handle__lower=nic_handle.strip().lower()).first()
    device = demo_authenticator(user) if user else None
    if device is None:
        raise CommandError(f"{nic_handle} has no demo authenticator: run seed_demo first.")
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(value).zfill(device.digits)


def _base32(hex_key):
    return base64.b32encode(bytes.fromhex(hex_key)).decode()
