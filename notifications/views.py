from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from notifications.models import OutboundEmail

EMAILS_PER_PAGE = 25

# The HTML part of an email, under a policy of its own: its inline styles apply; nothing
# else loads, runs or submits, even when opened outside the (sandboxed) frame that shows
# it; only a page of this site may frame it.
EMAIL_HTML_POLICY = {
    "default-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "img-src": ["data:"],
    "form-action": [NONE],
    "base-uri": [NONE],
    "frame-ancestors": [SELF],
    "sandbox": True,
}


def email_html_frame(view):
    """For a view that answers with the HTML part of an email, framed by this site."""
    return xframe_options_sameorigin(csp(EMAIL_HTML_POLICY)(view))


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


@login_required
@email_html_frame
def email_html(request, email_id):
    email = get_object_or_404(OutboundEmail, pk=email_id, user=request.user)
    html = email.shown_html
    if not html:
        raise Http404("This email has no HTML part")
    return HttpResponse(html)
