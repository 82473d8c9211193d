"""Changes to a service outside its lifecycle: the customer's automatic-renewal switch,
and a staff member's edit in admin."""

from django.db import transaction
from django.http import HttpRequest

from accounts.models import SecurityEvent, User
from accounts.security import security_log
from billing.models import Service
from notifications.services import email_queue


def service_set_auto_renew(*, service: Service, auto_renew: bool) -> Service:
    Service.objects.filter(pk=service.pk).update(auto_renew=auto_renew)
    service.auto_renew = auto_renew
    return service


def service_staff_edit(*, service: Service, staff_user: User, fields: list[str],
                       request: HttpRequest | None = None) -> Service:
    """Save a staff member's edit of `fields` of the service (as admin's form set them):

    1. Save those fields.
    2. Log it in the customer's security log: who, which service, which fields.
    3. Email the customer (a security notice, never switched off), naming the service and
       the fields in their language.
    Nothing changed: nothing is saved, logged or sent."""
    if not fields:
        return service
    fields = sorted(fields)
    customer = service.customer
    with transaction.atomic():
        service.save(update_fields=fields)
        security_log(user=customer, action=SecurityEvent.Action.STAFF_ACTION, request=request,
                     actor=staff_user, what="service_edit", service=service.pk,
                     name=service.name, fields=fields)
        # Field labels, not names: lazy, so they come out in the customer's language.
        labels = [Service._meta.get_field(name).verbose_name for name in fields]
        email_queue(template="staff_action", to=customer.email, user=customer,
                    context={"what": "service_edit", "service_name": service.name,
                             "field_labels": labels})
    return service
