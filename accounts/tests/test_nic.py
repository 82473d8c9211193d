import re

import pytest
from django.db import IntegrityError

from accounts import nic
from accounts.models import IssuedNicHandle, User
from accounts.nic import name_initial, nic_handle_candidate
from conftest import make_customer


@pytest.mark.parametrize(
    ("name", "initial"),
    [
        ("Daniel", "d"),
        ("martín", "m"),
        ("Ñúñez", "n"),
        ("Élodie", "e"),
        ("Øyvind", "o"),
        ("Łukasz", "l"),
        ("  'Ángel", "a"),
        ("王伟", "x"),
        ("Дмитрий", "x"),
        ("", "x"),
        ("123", "x"),
    ],
)
def test_initial_is_the_first_latin_letter_folded_to_ascii(name, initial):
    assert name_initial(name) == initial


def test_candidate_has_initials_six_digits_and_the_suffix(settings):
    settings.NIC_SUFFIX = "-OVH"
    handle = nic_handle_candidate("Daniel", "Martín")
    assert re.fullmatch(r"dm\d{6}-OVH", handle)


def test_candidate_uses_x_for_a_name_without_latin_letters():
    assert nic_handle_candidate("王", "Ñúñez").startswith("xn")


@pytest.mark.django_db
def test_a_taken_handle_is_drawn_again(monkeypatch):
    draws = iter(["111111", "111111", "222222"])
    monkeypatch.setattr(nic, "random_digits", lambda: next(draws))
    assert IssuedNicHandle.objects.claim(first_name="Ana", last_name="Díaz") == "ad111111-OVH"
    assert IssuedNicHandle.objects.claim(first_name="Ana", last_name="Díaz") == "ad222222-OVH"


@pytest.mark.django_db
def test_a_handle_is_never_reused_after_its_account_is_deleted(monkeypatch):
    draws = iter(["333333", "333333", "444444"])
    monkeypatch.setattr(nic, "random_digits", lambda: next(draws))
    first = make_customer("first@example.org", first_name="Ana", last_name="Díaz")
    assert first.nic_handle == "ad333333-OVH"
    first.delete()
    second = make_customer("second@example.org", first_name="Ana", last_name="Díaz")
    assert second.nic_handle == "ad444444-OVH"
    assert IssuedNicHandle.objects.filter(handle="ad333333-OVH").exists()


@pytest.mark.django_db
def test_the_database_refuses_two_handles_differing_only_by_case():
    make_customer("one@example.org")
    existing = User.objects.get()
    with pytest.raises(IntegrityError):
        User.objects.create(nic_handle=existing.nic_handle.upper(), email="two@example.org",
                            first_name="A", last_name="B")


@pytest.mark.django_db
def test_the_database_refuses_two_emails_differing_only_by_case():
    make_customer("same@example.org")
    with pytest.raises(IntegrityError):
        User.objects.create(nic_handle="zz000000-OVH", email="SAME@Example.org",
                            first_name="A", last_name="B")


@pytest.mark.django_db
def test_no_form_a_customer_or_an_agent_posts_can_change_the_handle(customer, customer_client,
                                                                  agent_client):
    from accounts.tests.test_profile import profile_data

    handle = customer.nic_handle
    customer_client.post("/account/profile/edit/",
                         {**profile_data(customer, city="Toledo"), "nic_handle": "zz999999-OVH"})
    agent_client.post(f"/admin/accounts/user/{customer.pk}/change/",
                      {**profile_data(customer, city="Sevilla"), "nic_handle": "zz999999-OVH"})
    customer.refresh_from_db()
    assert customer.city == "Sevilla"  # both forms were accepted...
    assert customer.nic_handle == handle  # ...and neither touched the handle
