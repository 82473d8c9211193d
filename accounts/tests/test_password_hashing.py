import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher
from django.test import override_settings

from accounts.hashers import OwaspArgon2PasswordHasher
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = override_settings(PASSWORD_HASHERS=[
    "accounts.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
])


def argon2_parameters(encoded):
    # argon2$argon2id$v=19$m=19456,t=2,p=1$salt$hash
    return encoded.split("$")[3]


@PRODUCTION_HASHERS
def test_a_new_password_is_hashed_with_argon2id_at_19_mib_two_passes_one_lane(customer):
    customer.set_password(PASSWORD)
    customer.save()
    assert customer.password.startswith("argon2$argon2id$")
    assert argon2_parameters(customer.password) == "m=19456,t=2,p=1"


@PRODUCTION_HASHERS
def test_a_hash_with_djangos_default_parameters_is_upgraded_at_login(client, customer):
    old = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    assert argon2_parameters(old) == "m=102400,t=2,p=8"
    customer.password = old
    customer.save()

    response = client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})

    assert response.status_code == 302
    customer.refresh_from_db()
    assert argon2_parameters(customer.password) == "m=19456,t=2,p=1"
    assert isinstance(identify_hasher(customer.password), OwaspArgon2PasswordHasher)
    assert customer.check_password(PASSWORD)


@PRODUCTION_HASHERS
def test_a_wrong_password_leaves_the_old_hash_alone(client, customer):
    old = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    customer.password = old
    customer.save()

    client.post("/login/", {"username": customer.nic_handle, "password": "wrong-password"})

    customer.refresh_from_db()
    assert customer.password == old
