"""`manage.py createsuperuser`: the NIC handle is drawn from the names as at signup and
printed, whichever way the command runs."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from accounts.models import IssuedNicHandle, SecurityEvent, User
from accounts.management.commands import createsuperuser

PASSWORD = "Sup3r-secret-pw"
HANDLE = re.compile(r"NIC handle: ([a-z]{2}\d{6}-OVH)")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def create(*args, **options):
    out = io.StringIO()
    call_command("createsuperuser", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.mark.django_db
def test_noinput_with_an_email_draws_the_handle_and_prints_it(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    printed = create("--noinput", "--email", "Root@Portal.example")
    handle = HANDLE.search(printed).group(1)
    user = User.objects.get(nic_handle=handle)
    assert handle.startswith("ss")  # "Support Staff" when no name is given
    assert (user.email, user.is_staff, user.is_superuser) == ("root@portal.example", True, True)
    assert user.check_password(PASSWORD)
    assert IssuedNicHandle.objects.filter(handle=handle).exists()  # never issued again
    assert SecurityEvent.objects.filter(user=user, action=SecurityEvent.Action.SIGNUP).exists()
    assert "root@portal.example" in printed


@pytest.mark.django_db
def test_noinput_takes_the_names_for_the_initials(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "rosa@portal.example")
    printed = create("--noinput", "--first_name", "Émile", "--last_name", "Łukasz")
    assert HANDLE.search(printed).group(1).startswith("el")


@pytest.mark.django_db
def test_noinput_without_a_password_creates_an_account_that_cannot_log_in_yet(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    printed = create("--noinput", "--email", "nopass@portal.example")
    user = User.objects.get(nic_handle=HANDLE.search(printed).group(1))
    assert not user.has_usable_password()
    assert "Forgotten password?" in printed


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "password", "message"), [
    ((), PASSWORD, "You must use --email"),
    (("--email", "not-an-address"), PASSWORD, "valid email"),
    (("--email", "a@portal.example"), "short", "too short"),
    (("--email", "a@portal.example", "--first_name", "Bad\u202ename"), PASSWORD, "control"),
])
def test_noinput_refuses_bad_values_with_a_clear_error(monkeypatch, args, password, message):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    with pytest.raises(CommandError, match=message):
        create("--noinput", *args)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_an_address_in_use_in_any_case_is_refused(monkeypatch, customer):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already uses this email"):
        create("--noinput", "--email", customer.email.upper())
    assert User.objects.filter(is_superuser=True).count() == 0


@pytest.mark.django_db
def test_a_given_handle_that_is_taken_is_refused(monkeypatch, customer):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already taken"):
        create("--noinput", "--email", "new@portal.example", "--nic_handle", customer.nic_handle)


@pytest.mark.django_db
def test_interactive_asks_again_after_bad_answers_and_prints_the_handle(monkeypatch):
    answers = iter(["", "taken@", "ada@portal.example", "Ada", ""])
    passwords = iter(["short", "short", PASSWORD, "other", PASSWORD, PASSWORD])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    monkeypatch.setattr(createsuperuser.getpass, "getpass", lambda prompt="": next(passwords))
    printed = create(stdin=Terminal())
    handle = HANDLE.search(printed).group(1)
    user = User.objects.get(nic_handle=handle)
    assert handle.startswith("as")  # Ada, and the default last name "Staff"
    assert (user.email, user.first_name, user.last_name) == ("ada@portal.example", "Ada", "Staff")
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_interactive_outside_a_terminal_says_to_use_noinput():
    with pytest.raises(CommandError, match="--noinput"):
        create(stdin=io.StringIO())


@pytest.mark.django_db
def test_the_demo_staff_account_is_printed_with_its_handle(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo support agent (/admin/): ss000001-OVH" in out.getvalue()


@pytest.mark.django_db
def test_admin_cannot_add_an_account_staff_come_from_createsuperuser(superuser_client):
    assert superuser_client.get("/admin/accounts/user/add/").status_code == 403
