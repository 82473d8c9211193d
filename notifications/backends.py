from pathlib import Path

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend
from django.utils import timezone


class ConsoleAndFileEmailBackend(ConsoleEmailBackend):
    """The embedded mode's mail: printed to the console and kept as one .eml file per
    message under EMAIL_FILE_PATH (var/mail/), so nobody needs an SMTP server."""

    def write_message(self, message):
        super().write_message(message)
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        recipient = (message.to or ["unknown"])[0].replace("/", "_")
        (folder / f"{stamp}-{recipient}.eml").write_bytes(message.message().as_bytes())
