"""Storages for tests that prove files go through Django's storage API only: one in
memory (no file system at all) and an S3 bucket (django-storages on moto's in-process
S3), each installed as the default storage; MEDIA_ROOT points at a folder that must stay
empty."""

import pytest
from django.core.files.storage import InMemoryStorage, default_storage

BUCKET = "portal-test-files"


class OverwritingStorage(InMemoryStorage):
    """Gives a name in use to the next file as it is, as an object store that overwrites
    does (or two machines that both found the name free)."""

    def get_available_name(self, name, max_length=None):
        return name


def use_default_storage(settings, backend, **options):
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": backend, "OPTIONS": options}}
    return default_storage


@pytest.fixture(params=["memory", "s3"])
def shared_storage(request, settings, tmp_path, monkeypatch):
    """The default storage, in memory or in an S3 bucket; MEDIA_ROOT an empty folder."""
    settings.MEDIA_ROOT = tmp_path / "no-local-files"
    if request.param == "memory":
        yield use_default_storage(settings, "django.core.files.storage.InMemoryStorage")
        assert not settings.MEDIA_ROOT.exists()
        return
    import boto3
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    with mock_aws():
        boto3.client("s3", region_name="eu-west-3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        # The options portal.settings builds from AWS_STORAGE_BUCKET_NAME and friends.
        yield use_default_storage(settings, "storages.backends.s3.S3Storage",
                                  bucket_name=BUCKET, location="portal", region_name="eu-west-3",
                                  file_overwrite=False)
    assert not settings.MEDIA_ROOT.exists()


def bucket_keys():
    import boto3

    listing = boto3.client("s3", region_name="eu-west-3").list_objects_v2(Bucket=BUCKET)
    return [item["Key"] for item in listing.get("Contents", [])]
