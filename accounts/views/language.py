"""The footer's language switcher."""

from django.conf import settings
from django.contrib import messages
from django.views import i18n
from django.views.decorators.http import require_POST

from accounts import services


@require_POST
def set_language(request):
    """Django's set_language (the cookie, then back to the page), and for a logged-in
    customer the account's language too: that is the one their pages and emails use."""
    language = request.POST.get("language")
    user = request.user
    if user.is_authenticated and language in dict(settings.LANGUAGES) and language != user.language:
        services.profile_update(user=user, changes={"language": language}, request=request)
    # A notice queued before the switch was written in the old language: drop it rather
    # than show it in the wrong one on the next page.
    for _message in messages.get_messages(request):
        pass
    return i18n.set_language(request)
