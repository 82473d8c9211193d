"""Sessions logged in before the session list existed have no UserSession row: the
security page would not list them and "End all other sessions" would miss them. On the
database session backends (db, cached_db: the django_session table is the source of
truth) each unexpired logged-in session gets its row here; browser and address are
unknown until its next request (accounts.middleware.SessionActivityMiddleware fills
them in). "Last seen" is when the session was last saved: its expiry date minus
SESSION_COOKIE_AGE. On a cache-only backend, sessions cannot be listed: each gets its
row at its next request."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations
from django.utils import timezone

DATABASE_ENGINES = {"django.contrib.sessions.backends.db",
                    "django.contrib.sessions.backends.cached_db"}


def user_sessions_create(apps, schema_editor):
    if settings.SESSION_ENGINE not in DATABASE_ENGINES:
        return
    Session = apps.get_model("sessions", "Session")
    User = apps.get_model("accounts", "User")
    UserSession = apps.get_model("accounts", "UserSession")
    now = timezone.now()
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    known = set(UserSession.objects.values_list("session_key", flat=True))
    decoder = SessionStore()
    sessions = Session.objects.filter(expire_date__gt=now).exclude(session_key__in=known)
    rows = {}
    for session in sessions.iterator(chunk_size=2000):
        user_id = decoder.decode(session.session_data).get("_auth_user_id")
        if user_id is not None:
            rows[session.session_key] = (str(user_id), min(session.expire_date - age, now))
    existing = {str(pk) for pk in User.objects.filter(
        pk__in=[user_id for user_id, _seen in rows.values()]).values_list("pk", flat=True)}
    UserSession.objects.bulk_create(
        [UserSession(user_id=int(user_id), session_key=key, created_at=seen, last_seen_at=seen)
         for key, (user_id, seen) in rows.items() if user_id in existing],
        batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0018_seal_totp_seeds"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(user_sessions_create, migrations.RunPython.noop),
    ]
