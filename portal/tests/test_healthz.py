import shutil
from unittest import mock

import pytest

from conftest import require
from notifications.tests.live import RedisServer, free_port, publishing_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_configured(settings):
    """Settings with a real broker to check, as in production (the tests run eagerly)."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"


def test_it_answers_200_when_the_database_answers(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_it_answers_503_when_the_database_does_not(client):
    with mock.patch("portal.views._database_ok", return_value=False):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down", "broker": "ok"}


def test_it_answers_503_when_the_broker_is_down(client, broker_configured):
    with publishing_to(f"redis://127.0.0.1:{free_port()}/0"):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "down"}


def test_it_answers_200_when_the_broker_answers(client, broker_configured, tmp_path):
    require(shutil.which("redis-server"), "redis-server (Debian package redis-server)")
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        with publishing_to(redis.url):
            response = client.get("/healthz/")
    finally:
        redis.stop()
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}
