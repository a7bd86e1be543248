"""Server faults under real browsers: daphne stopped with SIGTERM and started again on
the same port, Redis restarted while people chat, and more missed than a catch-up
replays, over every transport. Each test runs its own Redis, site and daphne
(tests/servers.py), stopped by PID however the test ends."""

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.conftest import Person, on, unique
from tests.http import Session
from tests.servers import Daphne, RedisServer, Site

pytestmark = pytest.mark.e2e

RESUME_LIMIT = 20
BACKOFF_CAP_MS = 30_000  # rooms/static/rooms/connection.js


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("e2e-fault-redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, redis: RedisServer) -> Site:
    site = Site(tmp_path_factory.mktemp("e2e-fault-site"), redis.url)
    site.env.update(
        {
            "CHAT_LOGIN_FAILURE_LIMIT": "1000",
            "CHAT_SEND_BURST": "100000",
            "CHAT_RESUME_LIMIT": str(RESUME_LIMIT),
        }
    )
    return site.prepare()


@pytest.fixture(autouse=True)
def daphne(site: Site, redis: RedisServer) -> Iterator[Daphne]:
    """Set up first, so it stops after the browser contexts have closed."""
    server = Daphne(site).start()
    try:
        yield server
    finally:
        server.stop()
        if redis.process.poll() is not None:
            redis.start()


@pytest.fixture
def live_server_url(daphne: Daphne) -> str:
    """This module's pages talk to its own daphne, not the shared one."""
    return daphne.url


def shown(person: Person) -> list[tuple[int, str]]:
    return person.page.eval_on_selector_all(
        "[data-message-list] .message[data-seq]",
        "elements => elements.map((e) => [Number(e.dataset.seq),"
        " e.querySelector('[data-body]').textContent])",
    )


def status_of(person: Person) -> str:
    """What the page says of its connection, for a failure's message."""
    return person.page.locator("[data-connection-status]").inner_text()


def expect_exactly(person: Person, bodies: list[str]) -> None:
    """All of `bodies`, each once, in this order; the whole list in seq order, no gaps,
    nothing still pending."""
    expect(
        person.messages(bodies[-1]), f"{person.username}: {status_of(person)}"
    ).to_have_count(1)
    expect(person.page.locator(".message.pending")).to_have_count(0)
    messages = shown(person)
    seqs = [seq for seq, _ in messages]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), person.username
    assert [body for _, body in messages if body in bodies] == bodies, person.username


def test_after_daphne_restarts_every_page_reconnects_with_every_message_once_in_order(
    sign_up, daphne
):
    alice = sign_up("Alice")
    bob = on(sign_up("Bob"), "event stream")
    carol = on(sign_up("Carol"), "polling")
    people = [alice, bob, carol]
    said = [unique(f"{person.username} before ") for person in people]
    for person, text in zip(people, said, strict=True):
        person.send(text)
        for other in people:
            expect(other.messages(text)).to_have_count(1)

    daphne.stop()
    status = alice.page.get_by_role("status")
    expect(status).to_have_text("Reconnecting…")
    expect(alice.page.locator("[data-connection-countdown]")).to_have_text(
        re.compile(r"^Next try in \d+ s$")
    )
    retry = alice.page.get_by_role("button", name="Retry now")
    expect(retry).to_be_visible()
    while_down = unique("written while the server was down ")
    alice.send(while_down)
    expect(alice.page.locator(".message.pending")).to_contain_text(while_down)

    daphne.start()
    # Sooner than the backoff: one person asks, one comes back to the window, one to
    # the tab. Alice's own backoff may fire first and hide the button; either way she
    # must be back within the same bound.
    try:
        retry.click(timeout=1_000)
    except PlaywrightTimeoutError:
        pass
    alice.expect_connected(timeout=3_000)
    expect(retry).to_be_hidden()
    bob.page.evaluate("window.dispatchEvent(new Event('focus'))")
    bob.expect_connected("event stream", timeout=3_000)
    carol.page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    carol.expect_connected("polling", timeout=3_000)

    said.append(while_down)
    for person in people:
        text = unique(f"{person.username} after ")
        person.send(text)
        said.append(text)
    for person in people:
        expect_exactly(person, said)


def test_when_redis_restarts_while_people_chat_nothing_is_lost_or_doubled(
    sign_up, redis
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    carol = on(sign_up("Carol"), "event stream")
    said = [unique("before the restart ")]
    alice.send(said[0])
    for person in (bob, carol):
        expect(person.messages(said[0])).to_have_count(1)

    redis.stop()
    said.append(unique("while Redis is down "))
    alice.send(said[-1])
    # Stored and acknowledged: the sender's copy is no longer pending.
    expect(alice.messages(said[-1])).to_have_count(1)
    expect(alice.page.locator(".message.pending")).to_have_count(0)
    redis.start()

    # Live events come back once the layer has subscribed again; the first one shows
    # the others the gap, and they catch up on what was never announced.
    deadline = time.monotonic() + 20
    while True:
        said.append(unique("are you there? "))
        alice.send(said[-1])
        try:
            expect(bob.messages(said[-1])).to_have_count(1, timeout=1_000)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "no live event after Redis came back"
    said.append(unique("back to normal "))
    bob.send(said[-1])
    for person in (alice, bob, carol):
        # Handshakes refused while Redis was down count as failures: a page may be in
        # its backoff (capped at 30 s) or on a fallback transport for a while yet.
        expect(person.page.locator("[data-connection-status]")).to_contain_text(
            "Connected", timeout=BACKOFF_CAP_MS + 5_000
        )
        expect_exactly(person, said)


@pytest.mark.parametrize("transport", ["WebSocket", "event stream", "polling"])
def test_more_missed_than_a_catch_up_replays_reloads_the_newest_messages(
    sign_up, live_server_url, transport
):
    bob = on(sign_up("Bob"), transport)
    alice = Session(live_server_url).signup()
    reloads: list[str] = []
    # The newest page, that is: not an older one (those ask for before=).
    bob.page.on(
        "request",
        lambda request: (
            "/api/rooms/general/messages" in request.url
            and "before=" not in request.url
            and reloads.append(request.url)
        ),
    )

    bob.page.context.set_offline(True)
    expect(bob.page.get_by_role("status")).to_have_text("Offline")
    missed = [unique(f"missed {n} ") for n in range(RESUME_LIMIT + 5)]
    for text in missed:
        alice.send("general", text)
    bob.page.context.set_offline(False)
    bob.expect_connected(transport, timeout=5_000)

    expect_exactly(bob, missed)
    assert reloads, "the page reloaded the newest messages over HTTP"
