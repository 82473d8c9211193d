#!/usr/bin/env python
import os
import sys

# Commands that only read the code (models, templates, catalogues) sign nothing and serve
# nothing: they run without a secret key, with the development defaults, unless
# DJANGO_DEBUG says otherwise. Everything else needs the real settings.
CODE_ONLY_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in CODE_ONLY_COMMANDS:
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
