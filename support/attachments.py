"""What an attachment is, read from its bytes (never from its name or the browser's
word), and the name it is downloaded under."""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from portal.errors import DomainError

MAX_SIZE = 5 * 1024 * 1024
MAX_FILES = 3
# type: (extension, magic bytes)
TYPES = {
    "application/pdf": (".pdf", b"%PDF-"),
    "image/png": (".png", b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": (".jpg", b"\xff\xd8\xff"),
    "text/plain": (".txt", None),
}
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
_TEXT_CONTROLS = {chr(c) for c in range(32)} - {"\t", "\n", "\r", "\f"}


class AttachmentRefused(DomainError):
    pass


def attachment_sniff(upload) -> str:
    """The content type of an uploaded file: PDF, PNG, JPEG or UTF-8 plain text, read
    from its content. Raises AttachmentRefused for anything else."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    for content_type, (_ext, magic) in TYPES.items():
        if magic and head.startswith(magic):
            if content_type in _PIL_FORMATS and not _is_image(upload, _PIL_FORMATS[content_type]):
                break
            return content_type
    else:
        if _is_text(upload):
            return "text/plain"
    raise AttachmentRefused(
        _("%(name)s is not a PDF, PNG, JPEG or plain-text file.") % {"name": upload.name},
        field="attachments", code="attachment_type")


def _is_image(upload, pil_format) -> bool:
    try:
        with Image.open(upload) as image:
            ok = image.format == pil_format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        ok = False
    upload.seek(0)
    return ok


def _is_text(upload) -> bool:
    data = upload.read()
    upload.seek(0)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(text) and not any(char in _TEXT_CONTROLS for char in text)


def attachments_check(uploads) -> list[tuple[object, str]]:
    """[(upload, content type)] for up to MAX_FILES files of up to MAX_SIZE each, or
    AttachmentRefused naming the first one that is not."""
    if len(uploads) > MAX_FILES:
        raise AttachmentRefused(ngettext("Attach at most %(count)d file.",
                                         "Attach at most %(count)d files.", MAX_FILES)
                                % {"count": MAX_FILES}, field="attachments",
                                code="attachment_count")
    checked = []
    for upload in uploads:
        if upload.size > MAX_SIZE:
            raise AttachmentRefused(
                _("%(name)s is larger than %(size)d MB.")
                % {"name": upload.name, "size": MAX_SIZE // (1024 * 1024)},
                field="attachments", code="attachment_size")
        checked.append((upload, attachment_sniff(upload)))
    return checked


def attachment_safe_name(name: str, content_type: str) -> str:
    """A download name that cannot inject a header or a path: ASCII letters, digits,
    '-', '_' and '.', at most 80 characters, ending with the extension of the type that
    was read from the content."""
    extension = TYPES[content_type][0]
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:72] or "attachment"
    return f"{stem}{extension}"
