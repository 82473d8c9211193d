from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from notifications.models import OutboundEmail

EMAILS_PER_PAGE = 25


@login_required
def email_list(request):
    emails = (
        OutboundEmail.objects.filter(user=request.user)
        .only("pk", "created_at", "subject", "status")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(emails, EMAILS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return render(request, "notifications/email_list.html", {"page": page})


@login_required
def email_detail(request, email_id):
    email = get_object_or_404(OutboundEmail, pk=email_id, user=request.user)
    return render(request, "notifications/email_detail.html", {"email": email})
