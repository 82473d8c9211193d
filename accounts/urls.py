from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/done/", views.signup_done, name="signup-done"),
    path("signup/confirm/<str:token>/", views.confirm_email, name="confirm-email"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/second-step/", views.login_second_step, name="login-second-step"),
    path("account/reauth/", views.reauth, name="reauth"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.dashboard, name="dashboard"),
    path("account/confirmation/resend/", views.resend_confirmation, name="resend-confirmation"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/done/", views.password_reset_done, name="password-reset-done"),
    path("reset/done/", views.password_reset_complete, name="password-reset-complete"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password-reset-confirm"),
    path("account-recovery/", views.account_recovery, name="account-recovery"),
    path("account-recovery/sent/", views.account_recovery_sent, name="account-recovery-sent"),
    path("account-recovery/cancel/<str:token>/", views.account_recovery_cancel,
         name="account-recovery-cancel"),
    path("account/security/", views.security, name="security"),
    path("account/security/sessions/<int:session_id>/end/", views.session_end,
         name="session-end"),
    path("account/security/sessions/end-others/", views.sessions_end_others,
         name="sessions-end-others"),
    path("account/security/totp/", views.totp_enrol, name="totp-enrol"),
    path("account/security/backup-codes/", views.backup_codes, name="backup-codes"),
    path("account/security/second-factor/off/", views.second_factor_off,
         name="second-factor-off"),
    path("account/profile/", views.profile, name="profile"),
    path("account/profile/edit/", views.profile_edit, name="profile-edit"),
    path("account/email/", views.email_change, name="email-change"),
    path("account/email/resend/", views.email_change_resend, name="email-change-resend"),
    path("account/email/cancel/", views.email_change_cancel, name="email-change-cancel"),
    path("account/email/verify/", views.email_change_verify, name="email-change-verify"),
    path("account/email/refuse/<str:token>/", views.email_change_refuse,
         name="email-change-refuse"),
    path("account/email/confirm/<str:token>/", views.email_change_confirm_new,
         name="email-change-confirm-new"),
]
