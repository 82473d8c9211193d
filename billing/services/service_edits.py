"""Changes to a service outside its lifecycle: the customer's automatic-renewal switch."""

from billing.models import Service


def service_set_auto_renew(*, service: Service, auto_renew: bool) -> Service:
    Service.objects.filter(pk=service.pk).update(auto_renew=auto_renew)
    service.auto_renew = auto_renew
    return service
