"""Nothing a customer needs lives only on one web machine's disk: stored files are read
and written through Django's storage API (the default storage: local disk in the embedded
mode, an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set), never by path. The
flows themselves run on an in-memory and an S3 storage in billing/ and support/ tests."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.db import models

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "billing", "support", "notifications", "portal")
# Development copies of sent emails (var/mail/), and the worker's liveness file (a
# process's own heartbeat on its own machine): never what a customer needs.
LOCAL_FILES_ALLOWED = {Path("notifications/backends.py"), Path("portal/celery.py"),
                       # reads the project's own source files for the code's digest
                       Path("portal/templatetags/fragment_cache.py")}
# Configuration: where MEDIA_ROOT and var/ are, not code that stores files.
CONFIGURATION = {Path("portal/settings.py"), Path("portal/test_settings.py"),
                 Path("portal/gunicorn_config.py")}
PATH_IO = {"write_bytes", "write_text", "read_bytes", "read_text", "mkdir", "unlink"}


def app_modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts) or relative in CONFIGURATION:
                continue
            yield relative, ast.parse(path.read_text(), str(relative))


def file_field_names():
    return {field.name for model in apps.get_models() for field in model._meta.get_fields()
            if isinstance(field, models.FileField)}


def test_no_code_reaches_a_stored_file_by_its_path():
    fields = file_field_names()
    assert {"pdf", "file"} <= fields
    found = []
    for relative, tree in app_modules():
        for node in ast.walk(tree):
            where = f"{relative}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Name) and node.id == "MEDIA_ROOT":
                found.append(f"{where} MEDIA_ROOT")
            elif isinstance(node, ast.Attribute) and node.attr == "MEDIA_ROOT":
                found.append(f"{where} settings.MEDIA_ROOT")
            elif (isinstance(node, ast.Attribute) and node.attr == "path"
                  and isinstance(node.value, ast.Attribute) and node.value.attr in fields):
                found.append(f"{where} .{node.value.attr}.path")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "path" and isinstance(node.func.value, ast.Attribute)
                  and node.func.value.attr == "storage"):
                found.append(f"{where} storage.path()")
            elif relative in LOCAL_FILES_ALLOWED:
                continue
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                    node.func.id == "open"):
                found.append(f"{where} open()")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in PATH_IO):
                found.append(f"{where} .{node.func.attr}()")
    assert found == []


def test_every_file_field_uses_the_default_storage():
    from django.core.files.storage import default_storage

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                assert field.storage is default_storage, f"{model.__name__}.{field.name}"


def storages_with(**env):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "PORTAL_", "AWS_"))}
    clean.update(PORTAL_ENV_FILE="", DJANGO_DEBUG="1", **env)
    return subprocess.run(
        [sys.executable, "-c", "import portal.settings as s; print(s.STORAGES['default'])"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_the_embedded_default_stores_files_on_local_disk():
    result = storages_with()
    assert "FileSystemStorage" in result.stdout, result.stderr


def test_a_bucket_name_turns_the_default_storage_into_s3():
    result = storages_with(AWS_STORAGE_BUCKET_NAME="portal-files",
                           AWS_S3_ENDPOINT_URL="https://s3.gra.io.cloud.ovh.net",
                           AWS_S3_REGION_NAME="gra", AWS_LOCATION="/prod/")
    assert result.returncode == 0, result.stderr
    default = eval(result.stdout)  # a dict literal printed by the child
    assert default == {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": "portal-files", "location": "prod",
        "endpoint_url": "https://s3.gra.io.cloud.ovh.net", "region_name": "gra",
        "addressing_style": None, "file_overwrite": False}}


def test_a_bad_storage_setting_stops_the_start_naming_the_variable():
    for variable, value in (("AWS_S3_ENDPOINT_URL", "minio:9000"),
                            ("AWS_S3_ADDRESSING_STYLE", "sideways")):
        result = storages_with(AWS_STORAGE_BUCKET_NAME="portal-files", **{variable: value})
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr and variable in result.stderr
