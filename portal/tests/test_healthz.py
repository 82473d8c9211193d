from unittest import mock

import pytest

pytestmark = pytest.mark.django_db


def test_it_answers_200_when_the_database_answers(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_it_answers_503_when_the_database_does_not(client):
    with mock.patch("portal.views._database_ok", return_value=False):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down", "broker": "ok"}


def test_it_checks_the_broker_when_one_is_configured(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with mock.patch("portal.views._broker_ok", return_value=False):
        response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
