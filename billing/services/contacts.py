"""Contact changes (OVHcloud's contactChange): the administrator contact of a service asks
to move one or more of its roles from the account holding them to another NIC handle;
both accounts accept, each with its own single-use link or from the contacts page.

States: todo (written by the web request) → validatingByCustomers (a worker looked the
NIC handle up and sent the links) → done, refused, aborted or expired. The web request
looks nothing up about the NIC handle typed, so an unknown handle costs the same work
and gets the same answer as a known one; the worker then simply sends no link to
anyone for it, and the request expires after 7 days like any other unanswered one.

Every step goes to the security log of each account it concerns."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import SecurityEvent, User
from accounts.security import security_log
from accounts.services.common import staff_may_manage
from billing.models import (
    CONTACT_ROLE_FIELDS,
    ContactChangeRequest,
    ContactRole,
    Invoice,
    Service,
    overdue_since,
)
from notifications.services import email_queue
from portal.errors import DomainError
from portal.links import portal_url
from portal.queueing import task_send, task_send_on_commit

if TYPE_CHECKING:
    from django.http import HttpRequest

CONTACT_CHANGE_VALIDITY = timedelta(days=7)
PROCESS_TASK = "billing.tasks.process_contact_change_task"
REQUEUE_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 500

State = ContactChangeRequest.State
Reason = ContactChangeRequest.Reason
Action = SecurityEvent.Action
HOLDER, TARGET = "holder", "target"


def has_overdue_invoice(*, user: User, now: datetime) -> bool:
    """An issued invoice of `user`, unpaid past its due date (the day after it, as the
    invoice pages say: billing.models.overdue_since)."""
    return Invoice.objects.filter(customer=user, status=Invoice.Status.ISSUED,
                                  paid_at__isnull=True, due_at__lt=overdue_since(now)).exists()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def contact_change_request(
        *, service: Service, requester: User, roles: list[str], target_nic_handle: str,
        request: HttpRequest | None = None, now: datetime | None = None) -> ContactChangeRequest:
    """The administrator contact asks to move `roles` of `service` to another NIC handle.

    1. Only the service's administrator contact asks; the roles must all be held by one
       account (the holder), which must not be the handle typed.
    2. Refused when the requester or the holder has an overdue invoice (the reason is
       shown); the new contact's invoices are checked when it accepts.
    3. One open request per service.
    4. Write the request as typed, log it for the requester and the holder, and hand it
       to a worker (contact_change_process). Nothing here reads the NIC handle typed."""
    now = now or timezone.now()
    roles = [ContactRole(role) for role in roles]
    if service.admin_contact_id != requester.pk:
        raise DomainError(_("Only the administrator contact of a service can change its "
                            "contacts."))
    if not roles:
        raise DomainError(_("Choose at least one role."), field="roles")
    holders = {getattr(service, f"{CONTACT_ROLE_FIELDS[role]}_id") for role in roles}
    if len(holders) != 1:
        raise DomainError(_("These roles are held by different accounts: move the roles of "
                            "one account at a time."), field="roles")
    holder = User.objects.get(pk=holders.pop())
    typed = target_nic_handle.strip()[:32]
    if typed.lower() == holder.nic_handle.lower():
        raise DomainError(_("This NIC handle already holds these roles."), field="nic_handle")
    for account in {requester, holder}:
        if has_overdue_invoice(user=account, now=now):
            raise DomainError(_("Contacts cannot change while %(nic)s has an overdue invoice. "
                                "Please pay it first.") % {"nic": account.nic_handle},
                              code="overdue")
    try:
        with transaction.atomic():
            change = ContactChangeRequest.objects.create(
                service=service, requester=requester, holder=holder, target_nic_handle=typed,
                created_at=now, expires_at=now + CONTACT_CHANGE_VALIDITY,
                **{f"move_{role.value}": True for role in roles})
            for account in {requester, holder}:
                security_log(user=account, action=Action.CONTACT_CHANGE_REQUESTED,
                             request=request, contact_change=change.pk, service=service.name,
                             roles=change.roles, new_contact=typed)
            task_send_on_commit(PROCESS_TASK, change.pk)
    except IntegrityError:
        raise DomainError(_("A contact change of this service is already under way.")) from None
    return change


def contact_change_process(*, change_id: int, now: datetime | None = None) -> None:
    """In the worker:
    1. Claim the request (handed over twice, it is handled once).
    2. Look up the active account with the NIC handle typed, in any case; not the holder.
    3. The holder always gets a link; the new contact gets one when it exists (and the
       request goes to its security log). An unknown handle gets none, and the request
       waits until it expires, as one the new contact never answers."""
    now = now or timezone.now()
    with transaction.atomic():
        if not ContactChangeRequest.objects.filter(
                pk=change_id, processed_at=None, state=State.TODO).update(processed_at=now):
            return
        change = (ContactChangeRequest.objects.select_for_update(of=("self",))
                  .select_related("service", "holder", "requester").get(pk=change_id))
        typed = change.target_nic_handle
        target = None
        if "@" not in typed:
            target = (User.objects.filter_by_login(typed).filter(is_active=True)
                      .exclude(pk=change.holder_id).first())
        change.target = target
        change.state = State.VALIDATING
        change.save(update_fields=["target", "state"])
        if target is not None:
            security_log(user=target, action=Action.CONTACT_CHANGE_REQUESTED,
                         contact_change=change.pk, service=change.service.name,
                         roles=change.roles, requested_by=change.requester.nic_handle)
        _links_send(change)


def _links_send(change: ContactChangeRequest) -> None:
    """A new link for each account that has not answered yet; the old ones stop working."""
    parties = [(HOLDER, change.holder, change.holder_accepted_at)]
    if change.target is not None:
        parties.append((TARGET, change.target, change.target_accepted_at))
    fields = ["links_sent"]
    for party, user, accepted_at in parties:
        if accepted_at is not None:
            continue
        token = secrets.token_urlsafe(32)
        setattr(change, f"{party}_token_hash", _token_hash(token))
        fields.append(f"{party}_token_hash")
        email_queue(
            template="contact_change_request", to=user.email, user=user,
            context={"party": party, "service_name": change.service.name,
                     "roles": change.role_labels(),
                     "requester_nic": change.requester.nic_handle,
                     "holder_nic": change.holder.nic_handle,
                     "target_nic": change.target_nic_handle,
                     "expires_at": change.expires_at},
            secrets={"answer_url": portal_url(reverse("contacts:answer", args=[token]))},
        )
    change.links_sent += 1
    change.save(update_fields=fields)


def contact_change_resend(*, change: ContactChangeRequest, user: User,
                          request: HttpRequest | None = None) -> None:
    """The requester's "Resend": new links for whoever has not answered; the old links
    no longer work."""
    with transaction.atomic():
        change = _locked(change)
        if change.requester_id != user.pk:
            raise DomainError(_("Only the requester can resend the links."))
        if change.state != State.VALIDATING:
            raise DomainError(_("This request is no longer pending."))
        _links_send(change)
        for account in _accounts(change):
            security_log(user=account, action=Action.CONTACT_CHANGE_LINKS_SENT,
                         request=request if account == user else None,
                         contact_change=change.pk)


def _locked(change: ContactChangeRequest) -> ContactChangeRequest:
    return (ContactChangeRequest.objects.select_for_update(of=("self",))
            .select_related("service", "holder", "target", "requester").get(pk=change.pk))


def _accounts(change: ContactChangeRequest) -> list[User]:
    """The accounts a step concerns: the holder, the new contact once known, the
    requester (often the holder)."""
    accounts = {change.holder_id: change.holder, change.requester_id: change.requester}
    if change.target is not None:
        accounts[change.target_id] = change.target
    return list(accounts.values())


def contact_change_from_token(*, token: str, user: User) -> tuple[ContactChangeRequest, str] | None:
    """The request and the party (holder or target) a link was sent to, when `user` is
    that party and the link is still valid; else None."""
    digest = _token_hash(token)
    for party in (HOLDER, TARGET):
        change = (ContactChangeRequest.objects.select_related("service", "holder", "requester")
                  .filter(**{f"{party}_token_hash": digest, party: user}).first())
        if change is not None:
            return change, party
    return None


def _party(change: ContactChangeRequest, user: User) -> str:
    if change.holder_id == user.pk:
        return HOLDER
    if change.target_id is not None and change.target_id == user.pk:
        return TARGET
    raise DomainError(_("This request is not addressed to you."))


def _answerable(change: ContactChangeRequest, user: User, token: str | None,
                now: datetime) -> str:
    """The party `user` is, once checked that it may answer now (with `token`, when it
    came by link: single use, and voided by a resend)."""
    party = _party(change, user)
    if change.state != State.VALIDATING or change.expires_at <= now:
        raise DomainError(_("This request is no longer pending."), code="closed")
    if getattr(change, f"{party}_accepted_at") is not None:
        raise DomainError(_("You have already accepted this request."), code="answered")
    if token is not None and getattr(change, f"{party}_token_hash") != _token_hash(token):
        raise DomainError(_("This link is no longer valid. Use the contacts page, or ask for "
                            "a new link."), code="link")
    return party


def contact_change_accept(*, change: ContactChangeRequest, user: User, token: str | None = None,
                          request: HttpRequest | None = None,
                          now: datetime | None = None) -> ContactChangeRequest:
    """1. Lock the request; `user` must be the holder or the new contact, not yet
       answered, the request pending and not past its 7 days.
    2. Record the acceptance (the link is used up) and log it.
    3. When both have accepted: refused if either account has an overdue invoice;
       otherwise the roles still held by the holder move to the new contact, and all
       accounts are told. Two accepts at once apply it once (the row lock)."""
    now = now or timezone.now()
    with transaction.atomic():
        change = _locked(change)
        party = _answerable(change, user, token, now)
        setattr(change, f"{party}_accepted_at", now)
        setattr(change, f"{party}_token_hash", "")
        change.save(update_fields=[f"{party}_accepted_at", f"{party}_token_hash"])
        for account in _accounts(change):
            security_log(user=account, action=Action.CONTACT_CHANGE_ACCEPTED,
                         request=request if account == user else None,
                         contact_change=change.pk, service=change.service.name,
                         accepted_by=user.nic_handle, party=party)
        if change.holder_accepted_at and change.target_accepted_at:
            if any(has_overdue_invoice(user=account, now=now)
                   for account in (change.holder, change.target)):
                _close(change, state=State.REFUSED, reason=Reason.OVERDUE, now=now)
            else:
                _apply(change, now=now)
    return change


def _apply(change: ContactChangeRequest, *, now: datetime) -> None:
    service = Service.objects.select_for_update(of=("self",)).get(pk=change.service_id)
    moved = []
    for role in change.roles:
        field = CONTACT_ROLE_FIELDS[role]
        # A role moved meanwhile by another request stays where it is.
        if getattr(service, f"{field}_id") == change.holder_id:
            setattr(service, field, change.target)
            moved.append(field)
    if moved:
        service.save(update_fields=moved)
    _close(change, state=State.DONE, reason=Reason.NONE, now=now,
           action=Action.CONTACT_CHANGE_APPLIED)


def contact_change_refuse(*, change: ContactChangeRequest, user: User, token: str | None = None,
                          request: HttpRequest | None = None,
                          now: datetime | None = None) -> ContactChangeRequest:
    """The holder or the new contact refuses: the request is closed, everyone told."""
    now = now or timezone.now()
    with transaction.atomic():
        change = _locked(change)
        party = _answerable(change, user, token, now)
        _close(change, state=State.REFUSED,
               reason=Reason.HOLDER_REFUSED if party == HOLDER else Reason.TARGET_REFUSED,
               now=now, actor=user, request=request)
    return change


def contact_change_cancel(*, change: ContactChangeRequest, user: User,
                          request: HttpRequest | None = None) -> ContactChangeRequest:
    """The requester withdraws a pending request."""
    with transaction.atomic():
        change = _locked(change)
        if change.requester_id != user.pk:
            raise DomainError(_("Only the requester can cancel this request."))
        if not change.is_pending:
            raise DomainError(_("This request is no longer pending."))
        _close(change, state=State.ABORTED, reason=Reason.CANCELLED, now=timezone.now(),
               actor=user, request=request)
    return change


def contact_change_staff_abort(*, change: ContactChangeRequest, staff_user: User, reason: str = "",
                               request: HttpRequest | None = None) -> ContactChangeRequest:
    """Support staff abort a pending request: logged with their name, everyone told.
    Only a superuser acts when one of the accounts is a staff account."""
    with transaction.atomic():
        change = _locked(change)
        for account in _accounts(change):
            staff_may_manage(user=account, staff_user=staff_user)
        if not change.is_pending:
            raise DomainError(_("This request is no longer pending."))
        _close(change, state=State.ABORTED, reason=Reason.STAFF, now=timezone.now(),
               actor=staff_user, request=request, staff_reason=reason)
    return change


CLOSE_ACTIONS = {
    State.REFUSED: Action.CONTACT_CHANGE_REFUSED,
    State.ABORTED: Action.CONTACT_CHANGE_CANCELLED,
    State.EXPIRED: Action.CONTACT_CHANGE_EXPIRED,
    State.DONE: Action.CONTACT_CHANGE_APPLIED,
}


def _close(change: ContactChangeRequest, *, state: str, reason: str, now: datetime,
           actor: User | None = None, request: HttpRequest | None = None,
           action: str | None = None, staff_reason: str = "") -> None:
    """Close a locked, pending request: links void, every account logged and told."""
    change.state, change.reason, change.closed_at = state, reason, now
    change.closed_by = actor
    change.holder_token_hash = change.target_token_hash = ""
    change.save(update_fields=["state", "reason", "closed_at", "closed_by", "holder_token_hash",
                               "target_token_hash"])
    staff = reason == Reason.STAFF
    for account in _accounts(change):
        security_log(user=account, action=action or CLOSE_ACTIONS[state],
                     request=request if (account == actor or staff) else None,
                     actor=actor if staff else None, contact_change=change.pk,
                     service=change.service.name, state=state, reason=reason,
                     **({"staff_reason": staff_reason} if staff else {}))
        # Until the new contact accepted, the requester learns nothing about it: an
        # account that was never told of the request is not told of its end either.
        email_queue(
            template="contact_change_closed", to=account.email, user=account,
            context={"state": state, "reason": reason,
                     "reason_text": Reason(reason).label if reason else "",
                     "service_name": change.service.name,
                     "roles": change.role_labels(),
                     "target_nic": change.target_nic_handle,
                     "holder_nic": change.holder.nic_handle,
                     "contacts_path": reverse("contacts:contacts")},
        )


def contact_changes_expire_due(*, now: datetime | None = None) -> int:
    """The beat job: requests not accepted by both within 7 days expire. Each is claimed
    under a skip-locked row lock and checked again, so two runs at once expire it once.
    Also hands the worker again the requests the broker lost. Returns how many expired."""
    now = now or timezone.now()
    due = list(ContactChangeRequest.objects.filter(
        state__in=ContactChangeRequest.OPEN_STATES, expires_at__lte=now,
    ).values_list("pk", flat=True)[:SWEEP_BATCH])
    expired = 0
    for change_id in due:
        with transaction.atomic():
            change = (ContactChangeRequest.objects.select_for_update(skip_locked=True, of=("self",))
                      .select_related("service", "holder", "target", "requester")
                      .filter(pk=change_id, state__in=ContactChangeRequest.OPEN_STATES,
                              expires_at__lte=now).first())
            if change is None:
                continue
            _close(change, state=State.EXPIRED, reason=Reason.TIMEOUT, now=now)
            expired += 1
    stale = ContactChangeRequest.objects.filter(
        state=State.TODO, processed_at=None, created_at__lt=now - REQUEUE_AFTER,
        expires_at__gt=now).values_list("pk", flat=True)[:SWEEP_BATCH]
    for change_id in stale:
        task_send(PROCESS_TASK, change_id)
    return expired
