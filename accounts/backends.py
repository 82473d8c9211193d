from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class NicHandleOrEmailBackend(ModelBackend):
    """Log in with the NIC handle or the email address, in any case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        try:
            user = User.objects.get_by_login(username)
        except User.DoesNotExist:
            # Spend the time a real check takes, so response time does not reveal
            # whether the account exists.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
