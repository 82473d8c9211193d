from django.utils import translation


class UserLanguageMiddleware:
    """A logged-in customer sees pages in the language of their account; everyone else
    gets what LocaleMiddleware picked from the browser."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        return response
