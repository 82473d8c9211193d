import time

from django.utils import translation

from accounts.services import SESSION_SEEN_INTERVAL, session_record


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


class SessionActivityMiddleware:
    """Keeps the row the security page lists for each logged-in session
    (accounts.models.UserSession): created by the login's own response (or, for a
    session from before the list, by its next request; the data migration accounts 0019
    covers those that make none), its key followed when Django changes it, its last
    sighting written at most once a minute."""

    ROW_KEY = "accounts.session_row"
    SEEN_KEY = "accounts.session_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Before the view, so that the security page lists the session showing it;
        # after it too, so that a session is listed from its login on, not from its
        # next request (nothing is written when the row is fresh).
        self._record(request)
        response = self.get_response(request)
        self._record(request)
        return response

    def _record(self, request):
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated:
            return
        key = session.session_key
        if key is None:
            return
        row = session.get(self.ROW_KEY) or {}
        fresh = time.time() - session.get(self.SEEN_KEY, 0) < SESSION_SEEN_INTERVAL.total_seconds()
        if row.get("key") == key and row.get("user") == user.pk and fresh:
            return
        recorded = session_record(user=user, session_key=key,
                                  row_id=row.get("id") if row.get("user") == user.pk else None,
                                  request=request)
        session[self.ROW_KEY] = {"id": recorded.pk, "key": key, "user": user.pk}
        session[self.SEEN_KEY] = time.time()
