"""Request headers as the rest of the portal may trust them."""

import re

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
