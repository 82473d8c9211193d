"""Account workflows, a module per flow. Callers use `from accounts import services`;
each flow's names are also importable from its module."""

from accounts.services.addresses import (  # noqa: F401
    addresses_normalise,
)
from accounts.services.common import (  # noqa: F401
    EmailChangeError,
    RateLimited,
    StaffActionRefused,
    rate_limit,
    staff_may_manage,
)
from accounts.services.email_change import (  # noqa: F401
    CODE_ALPHABET,
    CODE_LENGTH,
    CONFIRM_NEW_SALT,
    EMAIL_CHANGE_DELAY,
    EMAIL_CHANGE_MAX_CODES,
    EMAIL_CHANGE_MAX_WRONG_CODES,
    EMAIL_CHANGE_RESEND_INTERVAL,
    LINK_MAX_AGE,
    REFUSE_SALT,
    WrongCode,
    email_change_cancel,
    email_change_confirm_new,
    email_change_from_token,
    email_change_link_token,
    email_change_refuse,
    email_change_request,
    email_change_resend_code,
    email_change_verify,
)
from accounts.services.email_change_outcomes import (  # noqa: F401
    email_change_apply_or_abort,
    email_change_close,
    email_change_locked,
    email_changes_apply_set,
)
from accounts.services.email_change_sweep import (  # noqa: F401
    EMAIL_CHANGE_BATCH,
    EMAIL_CHANGE_UNCONFIRMED_LIMIT,
    NO_REFUSAL,
    email_changes_abort_unconfirmed,
    email_changes_apply_due,
)
from accounts.services.factor_removal import (  # noqa: F401
    FactorProof,
    authenticator_app_remove,
    removal_accepted_proofs,
    second_factor_turn_off,
    security_key_remove,
)
from accounts.services.login import (  # noqa: F401
    login_notify,
)
from accounts.services.password import (  # noqa: F401
    RESET_LIMIT_PER_IP,
    RESET_LIMIT_PER_LOGIN,
    RESET_LINKS_PER_ACCOUNT,
    RESET_LINKS_WINDOW,
    RESET_TASK,
    password_change,
    password_changed,
    password_reset_rate_limit,
    password_reset_request,
    password_reset_send,
    password_reset_url,
    password_resets_requeue_stale,
)
from accounts.services.profile import (  # noqa: F401
    profile_update,
)
from accounts.services.recovery import (  # noqa: F401
    RECOVERY_CANCEL_SALT,
    RECOVERY_LIMIT_PER_IP,
    RECOVERY_REQUEUE_AFTER,
    RECOVERY_REQUEUE_WITHIN,
    RECOVERY_TASK,
    recovery_from_token,
    recovery_rate_limit,
    recovery_request_approve,
    recovery_request_cancel,
    recovery_request_create,
    recovery_request_process,
    recovery_request_refuse,
    recovery_requests_requeue_stale,
)
from accounts.services.second_factor import (  # noqa: F401
    BACKUP_CODE_COUNT,
    SecondFactorThrottled,
    WrongSecondFactorCode,
    backup_codes_regenerate,
    backup_codes_remaining,
    second_factor_enabled,
    second_factor_remove,
    second_factor_verify,
    totp_enrolment_confirm,
    totp_enrolment_start,
)
from accounts.services.security_keys import (  # noqa: F401
    security_key_authentication_options,
    security_key_register,
    security_key_registration_options,
    security_key_verify,
)
from accounts.services.sessions import (  # noqa: F401
    SESSION_SEEN_INTERVAL,
    session_end,
    session_record,
    session_store,
    sessions_end_for_users,
    sessions_end_others,
)
from accounts.services.signup import (  # noqa: F401
    CONFIRMATION_RESEND_INTERVAL,
    EMAIL_CONFIRM_MAX_AGE,
    EMAIL_CONFIRM_SALT,
    EMAIL_UNIQUE_CONSTRAINT,
    SIGNUP_LIMIT_PER_IP,
    EmailInUse,
    account_confirm_email,
    account_create,
    account_resend_confirmation,
    account_send_confirmation,
    account_signup,
    email_confirmation_token,
    signup_rate_limit,
)
from accounts.services.staff import (  # noqa: F401
    email_change_staff_abort,
    email_change_staff_apply,
    password_reset_send_by_staff,
    staff_account_changed,
)
