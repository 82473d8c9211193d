"""The outbox's messages as Django builds them, for less CPU per email.

Turning a message into bytes cost a worker about 0.6 ms, as much as the rest of a
delivery bar the wait for the server. Two parts of it are work the standard library
repeats for nothing:

- the multipart boundary: when a message has none, the generator makes a random one and
  compiles a regular expression from it (never cached, the boundary being new each time)
  to check it does not occur in the parts. Here the boundary is random too, and set
  before the message is flattened, after a plain substring check against the bodies;
- header folding: compat32 runs every header through email.header.Header, even the
  short ASCII ones it leaves as they are. ShortHeadersAsIs writes those directly and
  hands every other header (long, non-ASCII, or with a line break) to compat32.

The bytes are the same as Django's, boundary and Date apart (tests check it)."""

import secrets
from email.policy import Compat32

from django.core.mail import EmailMultiAlternatives


class ShortHeadersAsIs(Compat32):
    """compat32, without the folding machinery for a header that needs none: an ASCII
    value with no line break, whose line fits within max_line_length, goes out as
    "Name: value" exactly as compat32 would write it."""

    def fold_binary(self, name, value):
        if (isinstance(value, str) and self.max_line_length
                and len(name) + 2 + len(value) <= self.max_line_length
                and value.isascii() and "\r" not in value and "\n" not in value):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


SHORT_HEADERS_AS_IS = ShortHeadersAsIs()


def boundary_for(*texts: str) -> str:
    """A random multipart boundary that occurs in none of `texts` (one in 2**128 would;
    then another is drawn)."""
    while True:
        boundary = f"=_{secrets.token_hex(16)}"
        if not any(boundary in text for text in texts):
            return boundary


class OutboxMessage(EmailMultiAlternatives):
    """EmailMultiAlternatives whose MIME message has its boundary set and folds its
    short headers directly; sent through Django's email backends like any other."""

    def message(self):
        mime = super().message()
        mime.policy = SHORT_HEADERS_AS_IS
        if mime.is_multipart():
            texts = [self.body, *(content for content, _mimetype in self.alternatives
                                  if isinstance(content, str))]
            mime.set_boundary(boundary_for(*texts))
        return mime
