from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from accounts import services
from accounts.models import EmailChangeRequest, SecurityEvent, User
from accounts.tasks import apply_due_email_changes_task
from conftest import make_customer, run_at_once
from notifications.models import OutboundEmail

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


def request_change(user, new_email, *, confirmed=True, at=T0):
    with time_machine.travel(at, tick=False):
        change = services.email_change_request(user=user, new_email=new_email)
        if confirmed:
            token = services.email_change_link_token(change, services.CONFIRM_NEW_SALT)
            services.email_change_confirm_new(token=token)
    change.refresh_from_db()
    return change


def sweep(at):
    with time_machine.travel(at, tick=False):
        return services.email_changes_apply_due()


@pytest.mark.django_db
def test_not_applied_at_23_hours_59_minutes(customer):
    change = request_change(customer, "new@example.com")
    assert sweep(T0 + timedelta(hours=23, minutes=59)) == 0
    change.refresh_from_db()
    assert change.state == "todo"
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"


@pytest.mark.django_db
def test_applied_at_24_hours_1_minute_with_notices_to_both_addresses(
    customer, django_capture_on_commit_callbacks
):
    customer.language = "es"
    customer.save()
    request_change(customer, "new@example.com")
    OutboundEmail.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(T0 + timedelta(hours=24, minutes=1)) == 1
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    assert customer.email_confirmed_at is not None
    change = EmailChangeRequest.objects.get()
    assert (change.state, change.reason) == ("done", "no_refusal")
    notices = OutboundEmail.objects.filter(kind="email_changed")
    assert sorted(notices.values_list("to_address", flat=True)) == [
        "daniel@example.org", "new@example.com"]
    assert all(n.status == "sent" and customer.nic_handle in n.body_text for n in notices)
    assert sorted(m.to[0] for m in mail.outbox) == ["daniel@example.org", "new@example.com"]
    assert all(n.language == "es" and "ha cambiado" in n.subject for n in notices)
    assert SecurityEvent.objects.filter(user=customer, action="email_changed").count() == 1


@pytest.mark.django_db
def test_a_refused_request_is_not_applied(customer):
    change = request_change(customer, "new@example.com")
    services.email_change_refuse(token=services.email_change_link_token(change, services.REFUSE_SALT))
    assert sweep(T0 + timedelta(hours=25)) == 0
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"


@pytest.mark.django_db
def test_an_unconfirmed_new_address_is_not_applied(customer):
    request_change(customer, "new@example.com", confirmed=False)
    assert sweep(T0 + timedelta(days=3)) == 0
    assert EmailChangeRequest.objects.get().state == "todo"


@pytest.mark.django_db
def test_an_unconfirmed_request_is_aborted_after_7_days_and_the_customer_told(customer):
    request_change(customer, "new@example.com", confirmed=False)
    with time_machine.travel(T0 + timedelta(days=6, hours=23), tick=False):
        assert services.email_changes_abort_unconfirmed() == 0
    with time_machine.travel(T0 + timedelta(days=7, minutes=1), tick=False):
        assert services.email_changes_abort_unconfirmed() == 1
        assert services.email_changes_abort_unconfirmed() == 0
    change = EmailChangeRequest.objects.get()
    assert (change.state, change.reason) == ("aborted", "unconfirmed")
    notice = OutboundEmail.objects.get(kind="email_change_cancelled")
    assert notice.to_address == "daniel@example.org"
    assert "not confirmed within 7 days" in notice.body_text


@pytest.mark.django_db
def test_work_runs_in_bounded_batches(db):
    for n in range(5):
        request_change(make_customer(f"c{n}@example.org"), f"n{n}@example.com")
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        assert services.email_changes_apply_due(batch_size=2, max_batches=1) == 2
        assert services.email_changes_apply_due(batch_size=2) == 3
    assert set(EmailChangeRequest.objects.values_list("state", flat=True)) == {"done"}


@pytest.mark.django_db
def test_a_request_that_cannot_apply_is_aborted_and_does_not_block_the_others(db):
    first = request_change(make_customer("a@example.org"), "wanted@example.com")
    request_change(make_customer("b@example.org"), "fine@example.com")
    make_customer("Wanted@Example.com", first_name="Winnie")
    assert sweep(T0 + timedelta(hours=25)) == 1
    first.refresh_from_db()
    assert (first.state, first.reason) == ("aborted", "address_taken")
    assert User.objects.filter(email="fine@example.com").exists()


@pytest.mark.django_db
def test_the_management_command_applies_due_changes(customer, capsys):
    request_change(customer, "new@example.com")
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        call_command("apply_due_email_changes")
    assert "Applied 1 email change(s)" in capsys.readouterr().out
    customer.refresh_from_db()
    assert customer.email == "new@example.com"


@pytest.mark.django_db
def test_the_beat_task_applies_and_aborts(customer, other_customer):
    request_change(customer, "new@example.com")
    request_change(other_customer, "never@example.com", confirmed=False)
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        assert apply_due_email_changes_task() == {"applied": 1, "aborted": 1}


@pytest.mark.django_db
def test_a_second_run_applies_nothing_more(customer):
    request_change(customer, "new@example.com")
    assert sweep(T0 + timedelta(hours=25)) == 1
    assert sweep(T0 + timedelta(hours=26)) == 0
    assert OutboundEmail.objects.filter(kind="email_changed").count() == 2


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_apply_each_request_once(postgres):
    customers = [make_customer(f"sweep{n}@example.org") for n in range(40)]
    for n, user in enumerate(customers):
        request_change(user, f"moved{n}@example.com")
    results, errors = run_at_once(
        lambda _n: services.email_changes_apply_due(now=T0 + timedelta(hours=25),
                                                    batch_size=7), 2)
    assert errors == []
    assert sum(results) == 40
    assert EmailChangeRequest.objects.filter(state="done").count() == 40
    assert OutboundEmail.objects.filter(kind="email_changed").count() == 80
    assert SecurityEvent.objects.filter(action="email_changed").count() == 40


@pytest.mark.django_db
def test_due_changes_are_applied_by_set_based_statements_not_one_by_one(customer, other_customer,
                                                                       monkeypatch):
    request_change(customer, "new@example.com")
    request_change(other_customer, "other.new@example.com")
    OutboundEmail.objects.all().delete()
    one_by_one = []
    from accounts.services import email_change_sweep

    real = email_change_sweep.email_change_apply_or_abort
    monkeypatch.setattr(email_change_sweep, "email_change_apply_or_abort",
                        lambda *a, **kw: one_by_one.append(a) or real(*a, **kw))
    assert sweep(T0 + timedelta(hours=25)) == 2
    assert one_by_one == []
    # Queued in bulk: the worker renders them from their stored variables.
    notices = OutboundEmail.objects.filter(kind="email_changed")
    assert notices.count() == 4 and all(n.context["new_email"] for n in notices)


@pytest.mark.django_db
def test_the_code_support_and_the_sweep_apply_a_change_the_same_way(customer, support_agent):
    change = request_change(customer, "new@example.com")
    services.email_change_staff_apply(change=change, staff_user=support_agent,
                                      reason="identity checked")
    customer.refresh_from_db()
    change.refresh_from_db()
    assert customer.email == "new@example.com" and change.state == "done"
    notices = OutboundEmail.objects.filter(kind="email_changed")
    assert sorted(n.to_address for n in notices) == ["daniel@example.org", "new@example.com"]
    assert all(n.context["old_email"] == "daniel@example.org" for n in notices)


@pytest.mark.django_db
def test_reasons_stored_as_sentences_become_codes(customer):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("accounts.migrations.0010_email_change_reason_codes")
    stored = {"too many wrong codes": ("aborted", "wrong_codes", ""),
              "24 hours without refusal": ("done", "no_refusal", ""),
              "support: customer called": ("aborted", "support_aborted", "customer called"),
              "support: checked by phone": ("done", "support_applied", "checked by phone"),
              "something unknown": ("aborted", "", "")}
    for sentence, (state, _code, _note) in stored.items():
        EmailChangeRequest.objects.create(user=customer, old_email=customer.email,
                                          new_email="x@example.com", state=state,
                                          reason=sentence, due_at=T0)
    migration.sentences_to_codes(apps, None)
    found = {(c.state, c.reason, c.staff_note) for c in EmailChangeRequest.objects.all()}
    assert found == set(stored.values())
