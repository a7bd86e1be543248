"""Shared fixtures: a real Redis for the channel layer, a live daphne, a real Chromium."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from chatsite.settings import channel_layers
from rooms import recent
from tests.servers import Daphne, RedisServer, Site

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session", autouse=True)
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Every test's channel layer is channels-redis against this real server."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    overrides = override_settings(
        REDIS_URL=server.url, CHANNEL_LAYERS=channel_layers(server.url)
    )
    overrides.enable()
    try:
        yield server
    finally:
        overrides.disable()
        server.stop()


@pytest.fixture(autouse=True)
def _no_recent_pages() -> None:
    """Each test starts with no room's newest page kept (rooms.recent): its rooms are
    rolled back after it, and the next test's may have the same ids."""
    recent.clear()


@pytest.fixture(autouse=True)
def _plain_static_files(settings) -> None:
    """Templates render without a collected manifest; the live site uses the real one."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Factories set a password for every user; PBKDF2's real cost adds nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_rate_limits(request, settings) -> None:
    """Each test counts from fresh buckets; only tests marked rate_limits keep the real
    limits, so seeding a room with messages is not flood control's business."""
    settings.CHAT_RATE_LIMIT_PREFIX = f"test-ratelimit:{uuid.uuid4().hex}"
    if request.node.get_closest_marker("rate_limits") is None:
        settings.CHAT_RATE_LIMITS = {
            action: (1_000_000, 1_000.0) for action in settings.CHAT_RATE_LIMITS
        }


@pytest.fixture(autouse=True)
def _own_presence(settings) -> None:
    """Each test's presence entries apart from every other's (and the live site's:
    user ids of two databases meet in one Redis)."""
    settings.CHAT_PRESENCE_PREFIX = f"test-presence:{uuid.uuid4().hex}"


@pytest.fixture(scope="session")
def live_site(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Site:
    """The site every browser test shares: all of them log in from 127.0.0.1, so a
    few wrong passwords must not lock the address for the rest, and they seed rooms at
    full speed. Lockout and flood control have tests of their own, on their own sites."""
    site = Site(tmp_path_factory.mktemp("site"), redis_server.url)
    site.env.update({"CHAT_LOGIN_FAILURE_LIMIT": "1000", "CHAT_SEND_BURST": "100000"})
    return site.prepare()


@pytest.fixture(scope="session")
def live_server_url(live_site: Site) -> Iterator[str]:
    """The chat served by a real daphne, as in production, on a free port."""
    server = Daphne(live_site).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser) -> Iterator:
    """Makes isolated browser contexts (separate cookies: separate people)."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def pytest_configure(config: pytest.Config) -> None:
    """WhiteNoise warns about a missing STATIC_ROOT in every HTTP test otherwise."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
