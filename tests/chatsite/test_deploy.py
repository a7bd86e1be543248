"""Production settings, checked the way a deployment meets them: in a fresh process whose
environment is the one docs/deployment.md tells an operator to set."""

import json
import os
import secrets
import subprocess
import sys
import textwrap
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import ROOT, Site, free_port, stop, wait_for_port

# What the settings read; a test names its own values for all of them, so the
# environment the suite runs in (a developer's, CI's DATABASE_URL) cannot leak in.
SETTINGS_VARIABLES = {
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "REDIS_URL",
    "STATIC_ROOT",
    "LOG_LEVEL",
}


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES
        and not name.startswith(("DJANGO_", "CHAT_", "PYTEST_"))
    }
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "1",
        "ALLOWED_HOSTS": "chat.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://chat.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CHAT_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")


def in_django(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    script = "import django; django.setup()\n" + textwrap.dedent(code)
    return run(env, "-c", script)


# --- manage.py check --deploy -----------------------------------------------------------


def test_production_settings_pass_check_deploy_at_warning_level(production_env):
    result = check_deploy(production_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_fails_with_debug_on(production_env):
    result = check_deploy({**production_env, "DJANGO_DEBUG": "1"})

    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_check_deploy_fails_with_a_short_secret_key(production_env):
    result = check_deploy({**production_env, "SECRET_KEY": "short"})

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_check_deploy_fails_without_the_https_settings(production_env):
    env = {**production_env}
    del env["DJANGO_SECURE"]

    result = check_deploy(env)

    assert result.returncode != 0
    for check in ["W004", "W008", "W012", "W016"]:  # HSTS, SSL redirect, 2 cookies
        assert f"security.{check}" in result.stderr


# --- Refused at startup ------------------------------------------------------------------


@pytest.mark.parametrize("hosts", ["*", "chat.example.com,*", " * "])
def test_a_wildcard_allowed_host_is_refused_at_startup(production_env, hosts):
    for env in [production_env, {**production_env, "DJANGO_SECURE": "0"}]:
        result = check_deploy({**env, "ALLOWED_HOSTS": hosts})

        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert "ALLOWED_HOSTS must name the site's hosts" in result.stderr


@pytest.mark.parametrize(
    "origins", ["*", "https://*", "https://chat.example.com,http://*"]
)
def test_a_wildcard_csrf_trusted_origin_is_refused_at_startup(production_env, origins):
    result = check_deploy({**production_env, "CSRF_TRUSTED_ORIGINS": origins})

    assert result.returncode != 0
    assert "CSRF_TRUSTED_ORIGINS must name origins" in result.stderr


def test_a_subdomain_wildcard_origin_is_still_allowed(production_env):
    env = {**production_env, "CSRF_TRUSTED_ORIGINS": "https://*.example.com"}

    assert check_deploy(env).returncode == 0


def test_production_refuses_to_start_without_a_secret_key_from_the_environment(
    production_env,
):
    env = {**production_env}
    del env["SECRET_KEY"]

    result = check_deploy(env)

    assert result.returncode != 0
    assert "DJANGO_SECURE=1 needs SECRET_KEY" in result.stderr


# --- What a browser and a load balancer get ------------------------------------------------


def test_production_http_behaviour(production_env):
    """Plain HTTP is redirected to HTTPS except the health check; HTTPS (as the proxy
    reports it) gets HSTS and the policy; unknown hosts are refused; cookies are
    secure."""
    result = in_django(
        production_env,
        """
        import json
        from django.conf import settings
        from django.test import Client

        client = Client(HTTP_HOST="chat.example.com")
        plain = client.get("/accounts/login/")
        health = client.get("/healthz")
        secure = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
        stranger = Client(HTTP_HOST="evil.example").get(
            "/healthz", HTTP_X_FORWARDED_PROTO="https"
        )
        print(json.dumps({
            "plain": [plain.status_code, plain.get("Location")],
            "health": health.status_code,
            "secure": [secure.status_code, dict(secure.headers)],
            "stranger": stranger.status_code,
            "cookies_secure": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE],
        }))
        """,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["plain"] == [301, "https://chat.example.com/accounts/login/"]
    assert seen["health"] == 200
    status, headers = seen["secure"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    policy = set(headers["Content-Security-Policy"].split("; "))
    assert policy >= {"script-src 'self'", "connect-src 'self' wss://chat.example.com"}
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert seen["stranger"] == 400
    assert seen["cookies_secure"] == [True, True]


def test_development_defaults_need_no_environment(production_env, tmp_path):
    """A fresh clone runs with nothing set: DEBUG off, a generated key kept under var/."""
    env = {
        name: value
        for name, value in production_env.items()
        if name
        in {"PATH", "HOME", "DJANGO_SETTINGS_MODULE", "CHAT_VAR_DIR", "DATABASE_URL"}
    }
    result = in_django(
        env,
        """
        from django.conf import settings
        print(settings.DEBUG, len(settings.SECRET_KEY), settings.ALLOWED_HOSTS)
        """,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"
    assert int(result.stdout.split()[1]) >= 50
    assert (Path(production_env["CHAT_VAR_DIR"]) / "secret_key").exists()


# --- Behind the proxy, as docs/deployment.md runs it ----------------------------------------


class ProxiedClient:
    """Speaks to daphne as nginx does: the Host, X-Forwarded-Proto and X-Real-IP
    headers of the deployment, and the browser's cookies."""

    def __init__(self, url: str, client_ip: str, cookies: dict[str, str]) -> None:
        self.url = url
        self.client_ip = client_ip
        self.cookies = cookies

    def request(self, path: str, data: dict | None = None, *, https: bool = True):
        headers = {"Host": "chat.example.com", "X-Real-IP": self.client_ip}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            headers["Origin"] = "https://chat.example.com"
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.url + path, data=body, headers=headers)
        opener = urllib.request.build_opener(NoRedirects)
        try:
            response = opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def proxied_daphne(tmp_path, production_env, redis_server):
    site = Site(tmp_path / "site", redis_server.url)
    site.workdir.mkdir()
    site.env.update(
        {
            key: production_env[key]
            for key in ["SECRET_KEY", "DJANGO_SECURE", "ALLOWED_HOSTS"]
            + ["CSRF_TRUSTED_ORIGINS"]
        }
    )
    site.prepare()
    port = free_port()
    with open(site.workdir / "daphne.log", "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                "--proxy-headers", "--proxy-headers-host", "X-Real-IP",
                "chatsite.asgi:application",
            ],
            cwd=ROOT, env=site.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def test_behind_the_proxy_the_client_address_and_https_come_from_its_headers(
    proxied_daphne,
):
    health = ProxiedClient(proxied_daphne, "198.51.100.1", {})
    assert health.request("/healthz", https=False).status == 200
    redirect = health.request("/accounts/login/", https=False)
    assert redirect.status == 301
    assert redirect.headers["Location"] == "https://chat.example.com/accounts/login/"

    def attempt(client: ProxiedClient, username: str):
        page = client.request("/accounts/login/")
        assert page.status == 200
        assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        token = client.cookies["csrftoken"]
        return client.request(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": "wrong"},
        )

    sprayer = ProxiedClient(proxied_daphne, "203.0.113.5", {})
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(sprayer, f"someone-{n}").status == 200
    locked = attempt(sprayer, "someone-else")
    assert locked.status == 429
    assert "Too many failed logins" in locked.read().decode()

    neighbour = ProxiedClient(proxied_daphne, "203.0.113.6", {})
    assert attempt(neighbour, "someone-new").status == 200
