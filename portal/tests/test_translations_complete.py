"""Every string a customer reads is translated: no untranslated or fuzzy entry in the
Spanish and French catalogues (the compiled .mo files are built from these)."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("language", ["es", "fr"])
def test_the_catalogue_has_no_untranslated_or_fuzzy_entry(language):
    missing, fuzzy = [], []
    for path in sorted((LOCALE / language / "LC_MESSAGES").glob("*.po")):
        catalogue = polib.pofile(str(path))
        missing += [f"{path.name}: {entry.msgid!r}" for entry in catalogue.untranslated_entries()]
        fuzzy += [f"{path.name}: {entry.msgid!r}" for entry in catalogue.fuzzy_entries()]
    assert not missing, f"{len(missing)} untranslated in {language}:\n" + "\n".join(missing)
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {language}:\n" + "\n".join(fuzzy)



SOURCES = ("accounts", "billing", "support", "notifications", "portal", "templates")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The catalogues as `make messages` would leave them: makemessages run on a copy of
    the sources and of locale/, so that a msgid of the code missing from the catalogue
    shows as untranslated and a changed one as fuzzy."""
    import os
    import shutil
    import subprocess
    import sys

    from conftest import require

    require(shutil.which("xgettext") and shutil.which("msgmerge"), "gettext is not installed")
    root = LOCALE.parent
    copy = tmp_path_factory.mktemp("messages")
    ignore = shutil.ignore_patterns("tests", "__pycache__", "*.mo")
    for name in SOURCES:
        shutil.copytree(root / name, copy / name, ignore=ignore)
    shutil.copytree(LOCALE, copy / "locale", ignore=shutil.ignore_patterns("*.mo"))
    shutil.copy(root / "manage.py", copy / "manage.py")
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "es", "-l", "fr",
                    "--no-obsolete"], cwd=copy, check=True, capture_output=True,
                   env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings",
                        "DJANGO_DEBUG": "1", "PORTAL_VAR_DIR": str(copy / "var")})
    return copy / "locale"


@pytest.mark.parametrize("language", ["es", "fr"])
def test_every_msgid_of_the_code_is_translated(extracted, language):
    catalogue = polib.pofile(str(extracted / language / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"{len(missing)} untranslated in {language}:\n" + "\n".join(missing)
    assert not fuzzy, f"{len(fuzzy)} fuzzy in {language}:\n" + "\n".join(fuzzy)
