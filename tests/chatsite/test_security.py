"""Login throttling (django-axes) and the Content-Security-Policy, through real requests.

The throttling tests post the real login forms with Django's test client, each in its
own rolled-back database, never against the shared live daphne: a lockout there would
lock its one IP address out of every later browser test.
"""

import re
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.test import AsyncClient, Client
from django.urls import reverse

from accounts.services import user_create
from tests.factories import PASSWORD, UserFactory

LIMIT = settings.AXES_FAILURE_LIMIT
LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_from(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def log_in(client: Client, username: str, password: str, url: str = LOGIN):
    return client.post(url, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, username: str, times: int, url: str = LOGIN):
    """`times` wrong passwords; the last response. Failures short of the limit show
    the form again; the one that reaches it already shows the lockout page."""
    for _ in range(times):
        response = log_in(client, username, "wrong-password", url)
    assert not logged_in(client)
    return response


def let_time_pass(delta: timedelta) -> None:
    """Back-dates every recorded failure, as if `delta` had passed."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)


def wait_out_the_cool_off() -> None:
    let_time_pass(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))


# --- Lockout -------------------------------------------------------------------------


@pytest.mark.django_db
def test_failed_logins_on_the_login_form_lock_the_account_even_for_the_right_password():
    user = UserFactory()
    client = client_from("10.0.0.1")
    assert fail(client, user.username, LIMIT - 1).status_code == 200
    assert fail(client, user.username, 1).status_code == 429

    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)


@pytest.mark.django_db
def test_the_lockout_page_says_why_for_how_long_and_links_back_to_the_login():
    user = UserFactory()
    client = client_from("10.0.0.1")
    fail(client, user.username, LIMIT)

    page = log_in(client, user.username, PASSWORD).content.decode()

    assert "Too many failed logins" in page
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert f"Try again in {minutes} minute" in page
    assert f'href="{LOGIN}"' in page


@pytest.mark.django_db
def test_a_locked_account_is_locked_from_every_address():
    user = UserFactory()
    fail(client_from("10.0.0.1"), user.username, LIMIT)

    elsewhere = client_from("10.9.9.9")
    response = log_in(elsewhere, user.username, PASSWORD)

    assert response.status_code == 429
    assert not logged_in(elsewhere)


@pytest.mark.django_db
def test_failures_on_the_admin_login_lock_the_admin_login():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = client_from("10.0.0.1")
    fail(client, staff.username, LIMIT, url=ADMIN_LOGIN)

    response = log_in(client, staff.username, PASSWORD, url=ADMIN_LOGIN)

    assert response.status_code == 429
    assert f'href="{ADMIN_LOGIN}"' in response.content.decode()
    assert not logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_failures_on_the_site_login_also_lock_the_admin_login():
    staff = UserFactory(is_staff=True, is_superuser=True)
    fail(client_from("10.0.0.1"), staff.username, LIMIT)

    client = client_from("10.0.0.2")
    response = log_in(client, staff.username, PASSWORD, url=ADMIN_LOGIN)

    assert response.status_code == 429
    assert not logged_in(client)


@pytest.mark.django_db
def test_one_address_failing_on_many_usernames_is_locked_out():
    """Password spraying: one try each on many accounts."""
    victims = UserFactory.create_batch(LIMIT)
    client = client_from("10.0.0.66")
    for victim in victims:
        fail(client, victim.username, 1)

    bystander = UserFactory()
    response = log_in(client, bystander.username, PASSWORD)

    assert response.status_code == 429
    assert not logged_in(client)
    assert (
        log_in(client_from("10.0.0.7"), bystander.username, PASSWORD).status_code == 302
    )


@pytest.mark.django_db
def test_fewer_failures_than_the_limit_do_not_lock():
    user = UserFactory()
    client = client_from("10.0.0.1")
    fail(client, user.username, LIMIT - 1)

    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_unknown_usernames_lock_alike_so_the_lockout_tells_nothing():
    known = UserFactory()
    fail(client_from("10.0.0.1"), known.username, LIMIT)
    fail(client_from("10.0.0.2"), "nobody-by-that-name", LIMIT)

    known_page = log_in(client_from("10.0.0.3"), known.username, PASSWORD)
    unknown_page = log_in(client_from("10.0.0.4"), "nobody-by-that-name", PASSWORD)

    assert known_page.status_code == unknown_page.status_code == 429
    assert known_page.content == unknown_page.content


# --- Cool-off and reset ---------------------------------------------------------------


@pytest.mark.django_db
def test_after_the_cool_off_the_right_password_logs_in():
    user = UserFactory()
    client = client_from("10.0.0.1")
    fail(client, user.username, LIMIT)
    assert log_in(client, user.username, PASSWORD).status_code == 429

    wait_out_the_cool_off()
    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_tries_during_the_lockout_do_not_extend_it():
    user = UserFactory()
    client = client_from("10.0.0.1")
    fail(client, user.username, LIMIT)
    let_time_pass(settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    for _ in range(3):
        assert log_in(client, user.username, "wrong-password").status_code == 429
        assert log_in(client, user.username, PASSWORD).status_code == 429

    let_time_pass(timedelta(minutes=2))

    assert log_in(client, user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_count():
    user = UserFactory()
    client = client_from("10.0.0.1")
    fail(client, user.username, LIMIT - 1)
    assert log_in(client, user.username, PASSWORD).status_code == 302
    client.logout()

    fail(client, user.username, LIMIT - 1)
    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


@pytest.mark.django_db
def test_logging_in_to_ones_own_account_does_not_reset_failures_on_anothers():
    """django-axes' own reset would clear every failure from the same address."""
    victim, attacker = UserFactory(), UserFactory()
    client = client_from("10.0.0.66")
    fail(client, victim.username, LIMIT - 1)
    assert log_in(client, attacker.username, PASSWORD).status_code == 302
    client.logout()
    fail(client_from("10.0.0.67"), victim.username, 1)

    response = log_in(client_from("10.0.0.1"), victim.username, PASSWORD)

    assert response.status_code == 429


@pytest.mark.django_db(transaction=True)
async def test_the_lockout_page_is_served_on_the_async_path_too():
    """daphne runs the middleware chain async, where django-axes passes the lockout
    callable other arguments than on the sync path."""
    user = await sync_to_async(UserFactory)()
    client = AsyncClient()
    for _ in range(LIMIT):
        await client.post(LOGIN, {"username": user.username, "password": "wrong"})

    response = await client.post(
        LOGIN, {"username": user.username, "password": PASSWORD}
    )

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


# --- Passwords --------------------------------------------------------------------------


@pytest.mark.django_db
def test_django_password_validators_stay_configured():
    names = {v["NAME"].rsplit(".", 1)[1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert names >= {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


# --- Content-Security-Policy -------------------------------------------------------------

EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def parse_policy(header: str) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1) for part in header.split(";") if part.strip()
    )
    return {name: value for name, value in directives}


@pytest.mark.django_db
@pytest.mark.parametrize("path", [LOGIN, reverse("signup"), ADMIN_LOGIN, "/healthz"])
def test_pages_carry_the_content_security_policy(client, path):
    response = client.get(path)

    assert response.status_code == 200
    policy = parse_policy(response["Content-Security-Policy"])
    assert policy.items() >= EXPECTED_POLICY.items()
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_policy_applies_in_development_too(client, settings):
    settings.DEBUG = True

    response = client.get(LOGIN)

    assert (
        parse_policy(response["Content-Security-Policy"]).items()
        >= EXPECTED_POLICY.items()
    )


@pytest.mark.django_db
def test_logged_in_pages_carry_the_policy(client):
    client.force_login(user_create(username="reader", password=PASSWORD))

    response = client.get(reverse("rooms:home"), follow=True)

    assert response.status_code == 200
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_pages_have_no_inline_scripts_styles_or_handlers(client):
    """The policy would block them; catch them here, before a browser does."""
    client.force_login(user_create(username="reader", password=PASSWORD))
    pages = {
        path: client.get(path, follow=True).content.decode()
        for path in [reverse("rooms:home"), reverse("rooms:list"), reverse("profile")]
    }
    anonymous = Client()
    for path in [LOGIN, reverse("signup")]:
        pages[path] = anonymous.get(path).content.decode()

    for path, html in pages.items():
        for tag in re.findall(r"<script\b[^>]*>", html, flags=re.I):
            is_data = re.search(r"type=[\"']?application/(ld\+)?json", tag)
            assert "src=" in tag or is_data, f"inline <script> on {path}: {tag}"
        assert not re.search(r"<style\b", html, flags=re.I), f"<style> on {path}"
        for tag in re.findall(r"<[a-z][^>]*>", html, flags=re.I):
            assert not re.search(r"\son[a-z]+\s*=", tag, flags=re.I), f"{tag} on {path}"
            assert not re.search(r"\sstyle\s*=", tag, flags=re.I), f"{tag} on {path}"
            assert "javascript:" not in tag.lower(), f"{tag} on {path}"


# --- In a real browser ------------------------------------------------------------------

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__csp.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""

OPEN_SOCKET = """
(url) => new Promise((resolve) => {
  let socket;
  try { socket = new WebSocket(url); } catch (error) { resolve(error.name); return; }
  socket.onopen = () => { socket.close(); resolve("open"); };
  socket.onerror = () => resolve("error");
})
"""


@pytest.mark.e2e
def test_pages_work_under_the_policy_in_chromium(
    live_site, live_server_url, new_context
):
    """Every page loads without a single violation, and the page's own WebSocket (ws:
    of the same host) passes connect-src 'self' while another host's is blocked."""
    username = f"csp-{uuid.uuid4().hex[:8]}"
    live_site.manage(
        "shell",
        "-c",
        "from accounts.services import user_create; "
        f"u = user_create(username='{username}', password='{PASSWORD}'); "
        "u.is_staff = u.is_superuser = True; u.save()",
    )
    page = new_context().new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))

    # The admin's login form, so this part depends on nothing but Django.
    page.goto(live_server_url + ADMIN_LOGIN)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/login/" not in url)

    origin = live_server_url.replace("http://", "ws://")
    assert page.evaluate(OPEN_SOCKET, f"{origin}/ws/") == "open"
    seen = {ADMIN_LOGIN: page.evaluate("window.__csp")}

    for path in [
        reverse("admin:index"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_add"),
        reverse("rooms:home"),
        reverse("rooms:list"),
        reverse("profile"),
    ]:
        response = page.goto(live_server_url + path)
        assert response.ok, f"{path}: {response.status}"
        page.wait_for_load_state("networkidle")
        seen[path] = page.evaluate("window.__csp")
    page.context.clear_cookies()
    for path in [LOGIN, reverse("signup")]:
        response = page.goto(live_server_url + path)
        assert response.ok, f"{path}: {response.status}"
        page.wait_for_load_state("networkidle")
        seen[path] = page.evaluate("window.__csp")

    assert {path: v for path, v in seen.items() if v} == {}
    assert not [text for text in console if "Content Security Policy" in text]

    # The control: the policy is on and this test would see it fire.
    other_host = origin.replace("127.0.0.1", "localhost")
    assert page.evaluate(OPEN_SOCKET, f"{other_host}/ws/") != "open"
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__csp")[0].startswith("connect-src ws://localhost")
