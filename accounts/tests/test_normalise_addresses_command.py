import io

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def stored(user, **fields):
    """Write addresses as an older version of the portal could have stored them."""
    User.objects.filter(pk=user.pk).update(**fields)


def run(*args):
    out = io.StringIO()
    call_command("normalise_addresses", *args, stdout=out)
    return out.getvalue()


def test_it_lists_old_addresses_and_changes_nothing_without_apply(customer):
    stored(customer, email="daniel@bücher.example")
    output = run()
    assert "daniel@xn--bcher-kva.example (to rewrite)" in output
    customer.refresh_from_db()
    assert customer.email == "daniel@bücher.example"


def test_apply_rewrites_an_address_whose_normal_form_is_free(customer):
    stored(customer, email="daniel@bücher.example", spare_email="ｓpare@example.net")
    output = run("--apply")
    customer.refresh_from_db()
    assert (customer.email, customer.spare_email) == ("daniel@xn--bcher-kva.example",
                                                      "spare@example.net")
    assert "2 rewritten" in output
    assert run().strip() == "Every stored address is in its normal form."


def test_a_lookalike_of_another_account_is_left_for_staff(customer, other_customer):
    stored(other_customer, email="daniel@example.org\u200b")
    output = run("--apply")
    other_customer.refresh_from_db()
    assert other_customer.email == "daniel@example.org\u200b"
    assert f"{other_customer.nic_handle} email" in output and "(refused)" in output


def test_a_normal_form_that_is_another_accounts_address_is_a_clash(customer, other_customer):
    stored(other_customer, email="ｄaniel@example.org")
    output = run("--apply")
    other_customer.refresh_from_db()
    assert other_customer.email == "ｄaniel@example.org"
    assert "(clash)" in output
