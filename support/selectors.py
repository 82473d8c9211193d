"""Reads that support pages show (the customer's and the admin's), rows loaded: templates
do no query."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from accounts.models import EmailChangeRequest, RecoveryRequest, SecurityEvent, User
from billing.models import Invoice, Service
from portal.db import ReusableQuery, page_of
from support.models import (
    ContactMessage,
    SupportAttachment,
    SupportEvent,
    SupportMessage,
    SupportRequest,
)

PAGE_SIZE = 25
RECENT_SECURITY_EVENTS = 10
CONTEXT_ROWS = 20


_REQUEST_COLUMNS = [field.attname for field in SupportRequest._meta.concrete_fields]
_REQUESTS = ReusableQuery(lambda user_id: (
    SupportRequest.objects.filter(customer_id=user_id)
    .annotate(rank=Case(When(status=SupportRequest.Status.OPEN, then=Value(0)),
                        When(status=SupportRequest.Status.WAITING, then=Value(1)),
                        default=Value(2), output_field=IntegerField()))
    .order_by("rank", "-last_message_at", "-pk").values_list(*_REQUEST_COLUMNS)))


def request_list(*, user: User, page: str | int | None) -> Page:
    """The customer's requests, open ones first (then waiting, then closed), most recent
    message first. One query for a page of them (two when there is more than a page)."""
    shown = page_of(_REQUESTS.bind(user_id=user.pk), page, PAGE_SIZE)
    shown.object_list = [SupportRequest.from_db(SupportRequest.objects.db, _REQUEST_COLUMNS, row)
                         for row in shown.object_list]
    return shown


def _messages(kinds=None) -> Prefetch:
    messages = SupportMessage.objects.select_related("author").prefetch_related(
        Prefetch("attachments", queryset=SupportAttachment.objects.order_by("pk")))
    if kinds is not None:
        messages = messages.filter(kind__in=kinds)
    return Prefetch("messages", queryset=messages.order_by("created_at", "pk"),
                    to_attr="conversation")


def request_for_customer(*, user: User, number: str) -> SupportRequest | None:
    """The customer's own request with the conversation they may read (never internal
    notes) in `conversation`; None for anyone else's, and for a number with a NUL (no
    request has one, and PostgreSQL refuses it in a query)."""
    if "\x00" in number:
        return None
    return (SupportRequest.objects.filter(customer=user, number=number)
            .select_related("service", "invoice")
            .prefetch_related(_messages(kinds=[SupportMessage.Kind.CUSTOMER,
                                               SupportMessage.Kind.REPLY]))
            .first())


def attachment_for(*, user: User, public_id) -> SupportAttachment | None:
    """An attachment its owner may download, or staff who may read support requests;
    None for anyone else (a 404 either way)."""
    attachments = SupportAttachment.objects.select_related("message__request").filter(
        public_id=public_id)
    if not (user.is_staff and user.has_perm("support.view_supportrequest")):
        # The customer's own, never one on an internal note.
        attachments = attachments.filter(message__request__customer=user).exclude(
            message__kind=SupportMessage.Kind.NOTE)
    return attachments.first()


@dataclass(frozen=True)
class StaffContext:
    """What an agent sees beside a request: the whole conversation, the request's log,
    and the customer's services, invoices, recent security log and open email change or
    recovery requests."""

    conversation: list[SupportMessage]
    events: list[SupportEvent]
    services: list[Service]
    invoices: list[Invoice]
    security_events: list[SecurityEvent]
    email_changes: list[EmailChangeRequest]
    recoveries: list[RecoveryRequest]


def request_staff_context(*, support_request: SupportRequest) -> StaffContext:
    customer_id = support_request.customer_id
    conversation = list(SupportMessage.objects.filter(request=support_request)
                        .select_related("author").prefetch_related("attachments")
                        .order_by("created_at", "pk"))
    return StaffContext(
        conversation=conversation,
        events=list(support_request.events.order_by("created_at", "pk")),
        services=list(Service.objects.filter(customer_id=customer_id)
                      .select_related("product").order_by("-created_at")[:CONTEXT_ROWS]),
        invoices=list(Invoice.objects.filter(customer_id=customer_id,
                                             status=Invoice.Status.ISSUED)
                      .order_by("-issued_at")[:CONTEXT_ROWS]),
        security_events=list(SecurityEvent.objects.filter(user_id=customer_id)
                             .select_related("actor")[:RECENT_SECURITY_EVENTS]),
        email_changes=list(EmailChangeRequest.objects.filter(
            user_id=customer_id, state=EmailChangeRequest.State.TODO)),
        recoveries=list(RecoveryRequest.objects.filter(
            user_id=customer_id, state=RecoveryRequest.State.PENDING)),
    )


def support_agents() -> QuerySet:
    """Who a request may be assigned to: active staff in the Support group, and
    superusers."""
    return (User.objects.filter(is_active=True, is_staff=True)
            .filter(Q(groups__name="Support") | Q(is_superuser=True)).distinct()
            .order_by("first_name", "last_name", "pk"))


def staff_queue(queryset: QuerySet) -> QuerySet:
    """The admin queue's order: requests waiting for staff first, the longest waiting at
    the top; then those waiting for the customer, then closed ones."""
    return queryset.annotate(
        queue_rank=Case(When(status=SupportRequest.Status.OPEN, then=Value(0)),
                        When(status=SupportRequest.Status.WAITING, then=Value(1)),
                        default=Value(2), output_field=IntegerField()),
    ).order_by("queue_rank", "status_changed_at", "pk")


def contact_account(*, contact: ContactMessage) -> User | None:
    """The active account whose NIC handle (or email) the contact form was given."""
    return User.objects.filter_by_login(contact.nic_handle).filter(is_active=True).first()
