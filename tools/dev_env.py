"""Write this checkout's development configuration, `.env`, unless it exists.

`make run` calls it before anything else: a generated DJANGO_SECRET_KEY (kept, so that
sessions and sealed email secrets survive a restart) and DJANGO_DEBUG=1. The settings
read the file in every process and every `manage.py` command; a real environment
variable wins over it. Production has no such file and refuses to start without a key.

    python tools/dev_env.py [PATH]      # default: .env beside manage.py
"""

import os
import secrets
import sys
from pathlib import Path

TEMPLATE = """\
# Development configuration of this checkout, written once by `make run`
# (tools/dev_env.py) and read by portal/settings.py for every process and every
# `manage.py` command. A variable set in the environment wins over this file.
# Not for production: there, set DJANGO_SECRET_KEY and the rest in the environment.
DJANGO_DEBUG=1
DJANGO_SECRET_KEY={key}
"""


def write_dev_env(path: Path) -> bool:
    """Create `path` with a new key; False (and nothing written) when it exists."""
    try:
        # O_EXCL: two `make run` at once cannot both write, nor overwrite a kept key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(TEMPLATE.format(key=secrets.token_urlsafe(50)))
    return True


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / ".env"
    if write_dev_env(path):
        print(f"Wrote {path}: DJANGO_DEBUG=1 and a new DJANGO_SECRET_KEY (development only).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
