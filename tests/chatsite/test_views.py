"""chatsite.views.healthz: what a load balancer probes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_when_the_database_answers_then_healthz_is_200_for_anyone():
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_when_healthz_is_asked_then_it_needs_no_session_or_redirect():
    response = Client().get("/healthz", follow=False)

    assert response.status_code == 200
    assert "sessionid" not in response.cookies


def test_when_the_database_cannot_be_reached_then_healthz_is_not_200(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "print(Client(raise_request_exception=False).get('/healthz').status_code)\n"
    )
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"REDIS_URL", "DATABASE_URL"}
        },
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "CHAT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/chat.sqlite3",
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "CRITICAL",
        "DJANGO_LOG_LEVEL": "CRITICAL",
    }

    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "500"
