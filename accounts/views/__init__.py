"""The accounts pages, a module per flow; accounts/urls.py names them through this package."""

from accounts.views.account import (  # noqa: F401
    confirm_email,
    dashboard,
    profile,
    profile_edit,
    resend_confirmation,
    signup,
    signup_done,
)
from accounts.views.email_change import (  # noqa: F401
    email_change,
    email_change_cancel,
    email_change_confirm_new,
    email_change_refuse,
    email_change_resend,
    email_change_verify,
)
from accounts.views.language import set_language  # noqa: F401
from accounts.views.login import (  # noqa: F401
    WEBAUTHN_LOGIN_KEY,
    WEBAUTHN_REGISTER_KEY,
    AdminLoginView,
    LoginView,
    LogoutView,
    login_second_step,
    login_security_key_options,
    reauth,
)
from accounts.views.password import (  # noqa: F401
    PasswordResetConfirmView,
    account_recovery,
    account_recovery_cancel,
    account_recovery_sent,
    password_reset,
    password_reset_complete,
    password_reset_done,
)
from accounts.views.second_factor import (  # noqa: F401
    backup_codes,
    second_factor_off,
    security_key_options,
    security_key_remove,
    security_keys,
    totp_enrol,
    totp_remove,
)
from accounts.views.security import (  # noqa: F401
    security,
    session_end,
    sessions_end_others,
)
