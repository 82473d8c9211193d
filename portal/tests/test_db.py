import pytest
from django.contrib.auth.models import Group
from django.db.models import F, Value
from django.db.models.functions import Concat

from portal.db import insert_from_select, insert_from_select_pks

pytestmark = pytest.mark.django_db


def copies(source, suffix=" (copy)"):
    return {"name": Concat(F("name"), Value(suffix))}, source


def test_it_returns_the_keys_of_the_rows_it_wrote_and_only_those():
    Group.objects.bulk_create([Group(name="a"), Group(name="b"), Group(name="c")])
    before = set(Group.objects.values_list("pk", flat=True))
    pks = insert_from_select_pks(Group, *copies(Group.objects.filter(name__in=["a", "c"])))
    assert len(pks) == 2 and before.isdisjoint(pks) and pks == sorted(pks)
    assert sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True)) == [
        "a (copy)", "c (copy)"]


def test_two_identical_inserts_each_get_their_own_keys():
    Group.objects.create(name="a")
    first = insert_from_select_pks(Group, *copies(Group.objects.filter(name="a")))
    second = insert_from_select_pks(Group, *copies(Group.objects.filter(name="a"), " (2)"))
    assert len(first) == len(second) == 1 and set(first).isdisjoint(second)


def test_an_empty_source_writes_nothing():
    assert insert_from_select_pks(Group, *copies(Group.objects.none())) == []
    assert insert_from_select_pks(Group, *copies(Group.objects.filter(pk__in=[]))) == []
    assert insert_from_select(Group, *copies(Group.objects.filter(name="nobody"))) == 0
