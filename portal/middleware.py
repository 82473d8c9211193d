"""Request headers as the rest of the portal may trust them; a page for a 405."""

import re

from django.template.loader import render_to_string

# RFC 9110 allows no control character in a field value but the tab.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class HeaderControlCharactersMiddleware:
    """Removes control characters from request headers, before anything reads them.
    Headers end up in rows (axes' login log keeps User-Agent and Accept; the security
    log the browser), and PostgreSQL refuses a NUL in text: a forged header would make
    every login a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, value in list(request.META.items()):
            if name.startswith("HTTP_") and isinstance(value, str):
                request.META[name] = _CONTROL_CHARACTERS.sub("", value)
        return self.get_response(request)


class MethodNotAllowedPageMiddleware:
    """A view refusing a method (require_POST, a class-based view without `get`) answers
    405 with an empty body: the browser shows a blank page. This gives it the portal's
    page, in the customer's language, keeping the Allow header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and request.method == "GET":
            response.content = render_to_string("405.html", request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
        return response
