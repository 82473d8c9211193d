from accounts.models.log import SecurityEvent
from accounts.models.requests import (
           EmailChangeRequest,
           PasswordResetAttempt,
           RecoveryRequest,
)
from accounts.models.second_factor import AuthenticatorApp, BackupCode, SecurityKey
from accounts.models.sessions import UserSession
from accounts.models.user import IssuedNicHandle, LegalForm, User, UserManager

__all__ = ["AuthenticatorApp", "BackupCode", "EmailChangeRequest", "IssuedNicHandle", "LegalForm", "PasswordResetAttempt",
           "RecoveryRequest", "SecurityEvent", "SecurityKey", "User", "UserManager",
           "UserSession"]
