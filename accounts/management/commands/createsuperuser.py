"""`manage.py createsuperuser` for this portal (it replaces django.contrib.auth's, which
`accounts` precedes in INSTALLED_APPS): the account's NIC handle is drawn from its names
as at signup, never typed, and the command prints it, since staff log in with it.

    manage.py createsuperuser                       # asks email, names and password
    DJANGO_SUPERUSER_PASSWORD=... manage.py createsuperuser --noinput --email a@b.example
"""

import getpass
import os
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import EmailValidator

from accounts.models import User
from portal.text import no_control_characters, normalise_email

DEFAULT_NAMES = {"first_name": "Support", "last_name": "Staff"}


def clean_email(value):
    address = normalise_email(value or "")
    EmailValidator()(address)
    if User.objects.email_in_use(address):
        raise ValidationError("An account already uses this email address.")
    return address


def clean_name(value, field):
    value = (value or "").strip() or DEFAULT_NAMES[field]
    no_control_characters(value)
    if len(value) > User._meta.get_field(field).max_length:
        raise ValidationError("Too long.")
    return value


class Command(BaseCommand):
    help = ("Create a superuser (staff with every right). Its NIC handle is drawn from its "
            "names, as at signup, and printed.")
    requires_migrations_checks = True
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--email", help="Its email address (or DJANGO_SUPERUSER_EMAIL).")
        parser.add_argument("--first_name", "--first-name", dest="first_name",
                            help="First name (or DJANGO_SUPERUSER_FIRST_NAME; default Support).")
        parser.add_argument("--last_name", "--last-name", dest="last_name",
                            help="Last name (or DJANGO_SUPERUSER_LAST_NAME; default Staff).")
        parser.add_argument("--nic_handle", "--nic-handle", dest="nic_handle",
                            help="A given free NIC handle instead of a drawn one (rarely needed).")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="Ask nothing: the password comes from DJANGO_SUPERUSER_PASSWORD "
                                 "(without it the account has none until a password reset).")

    def execute(self, *args, **options):
        self.stdin = options.get("stdin", sys.stdin)  # tests hand a terminal-like object
        return super().execute(*args, **options)

    def handle(self, *args, interactive=True, verbosity=1, **options):
        data = {field: options[field] or os.environ.get(f"DJANGO_SUPERUSER_{field.upper()}")
                for field in ("email", "first_name", "last_name")}
        try:
            if interactive:
                if not (hasattr(self.stdin, "isatty") and self.stdin.isatty()):
                    raise CommandError("Not a terminal: use --noinput with --email and "
                                       "DJANGO_SUPERUSER_PASSWORD.")
                data = self._ask(data)
            else:
                data = self._check(data)
        except KeyboardInterrupt:
            self.stderr.write("\nOperation cancelled.")
            sys.exit(1)
        try:
            user = User.objects.create_superuser(nic_handle=options["nic_handle"] or None, **data)
        except ValueError as error:  # a given handle that is taken
            raise CommandError(str(error)) from None
        self.stdout.write(f"Superuser created. NIC handle: {user.nic_handle}")
        if verbosity >= 1:
            self.stdout.write(f"Log in at /admin/ with {user.nic_handle} or {user.email}; "
                              "the first login asks to set up a second factor.")
            if not user.has_usable_password():
                self.stdout.write("No password was given: set one with "
                                  "\"Forgotten password?\" on the login page.")

    def _check(self, data):
        """--noinput: every value from the options or the environment, checked."""
        if not data["email"]:
            raise CommandError("You must use --email (or DJANGO_SUPERUSER_EMAIL) with --noinput.")
        try:
            data["email"] = clean_email(data["email"])
            for field in DEFAULT_NAMES:
                data[field] = clean_name(data[field], field)
            data["password"] = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None
            if data["password"]:
                validate_password(data["password"], User(**self._profile(data)))
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        return data

    def _ask(self, data):
        """Interactive: ask for what the options did not give, again after a bad answer."""
        data["email"] = self._prompt("Email address: ", clean_email, data["email"])
        for field, label in (("first_name", "First name"), ("last_name", "Last name")):
            data[field] = self._prompt(f"{label} [{DEFAULT_NAMES[field]}]: ",
                                       lambda value, field=field: clean_name(value, field),
                                       data[field] or None, blank_ok=True)
        while True:
            password = getpass.getpass()
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("Error: Your passwords didn't match.")
                continue
            try:
                validate_password(password, User(**self._profile(data)))
            except ValidationError as error:
                self.stderr.write("Error: " + " ".join(error.messages))
                continue
            data["password"] = password
            return data

    def _prompt(self, message, clean, given, *, blank_ok=False):
        value = given
        while True:
            if value is None:
                value = input(message)
                if not value.strip() and not blank_ok:
                    self.stderr.write("Error: This field cannot be blank.")
                    value = None
                    continue
            try:
                return clean(value)
            except ValidationError as error:
                self.stderr.write("Error: " + "; ".join(error.messages))
                value = None

    @staticmethod
    def _profile(data):
        return {field: data[field] for field in ("email", "first_name", "last_name")}
