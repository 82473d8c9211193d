"""The password hasher: Argon2id at a parameter set OWASP recommends.

Django's default Argon2 parameters (m=100 MiB, t=2, p=8) cost about 160 ms of CPU and
100 MiB per login here, so two sync web workers served ten logins a second. OWASP's
Password Storage Cheat Sheet lists equally strong Argon2id sets that trade memory for
passes; m=19 MiB, t=2, p=1 is its first one. Stored hashes keep their own parameters, so
old hashes still verify, and Django rehashes a password with these parameters at its
next successful login (`must_update`)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2PasswordHasher(Argon2PasswordHasher):
    # Same algorithm name as Django's hasher, so this one reads the hashes it wrote; it
    # must replace it in PASSWORD_HASHERS (two hashers with one name: the last wins).
    time_cost = 2
    memory_cost = 19 * 1024  # KiB: 19 MiB
    parallelism = 1
