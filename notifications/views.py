from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from notifications.selectors import email_history, email_of

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


def _email_or_404(request, email_id):
    email = email_of(user=request.user, email_id=email_id)
    if email is None:
        raise Http404("No such email")
    return email


@login_required
def email_list(request):
    page = email_history(user=request.user, page=request.GET.get("page"))
    return render(request, "notifications/email_list.html", {"page": page})


@login_required
def email_detail(request, email_id):
    email = _email_or_404(request, email_id)
    return render(request, "notifications/email_detail.html", {"email": email})


@login_required
@email_html_frame
def email_html(request, email_id):
    html = _email_or_404(request, email_id).shown_html
    if not html:
        raise Http404("This email has no HTML part")
    return HttpResponse(html)
