"""The fallback transports in a real browser: where a WebSocket cannot get through the
page chats over an event stream with POSTed frames, and where the stream cannot either,
over long-polling; the other party sees nothing different."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import NO_EVENTSOURCE, NO_WEBSOCKET, Person, unique

pytestmark = pytest.mark.e2e


def chat_both_ways(alice: Person, bob: Person) -> None:
    """Each sends one message; both see both, exactly once, none left pending."""
    there, back = unique("there "), unique("and back ")
    alice.send(there)
    expect(bob.messages(there)).to_have_count(1)
    bob.send(back)
    expect(alice.messages(back)).to_have_count(1)
    for person in (alice, bob):
        expect(person.messages(there)).to_have_count(1)
        expect(person.messages(back)).to_have_count(1)
        expect(person.page.locator(".message.pending")).to_have_count(0)


def without(person: Person, *scripts: str) -> None:
    """Reloads the person's page in a browser that lacks what the scripts delete."""
    for script in scripts:
        person.page.context.add_init_script(script)
    person.page.reload()


def test_without_websocket_the_page_chats_over_the_event_stream(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    without(alice, NO_WEBSOCKET)
    alice.expect_connected("event stream")
    chat_both_ways(alice, bob)


def test_without_websocket_or_eventsource_the_page_chats_by_long_polling(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    without(alice, NO_WEBSOCKET, NO_EVENTSOURCE)
    alice.expect_connected("polling")
    chat_both_ways(alice, bob)


def test_when_websockets_keep_failing_while_http_works_the_page_falls_back_to_the_stream(
    sign_up,
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    opened: list[int] = []

    def refuse(ws) -> None:
        """A proxy that lets no WebSocket through: every one is closed at once."""
        opened.append(1)
        ws.close()

    alice.page.route_web_socket("**/ws/", refuse)
    alice.page.reload()
    alice.expect_connected("event stream", timeout=15_000)
    assert len(opened) == 3, "three failed sockets, then the stream"
    chat_both_ways(alice, bob)


def test_when_the_stream_never_says_hello_the_page_falls_back_to_polling(sign_up):
    """A buffering proxy holds the stream back: the page polls instead."""
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    held: list[str] = []
    # Never answered: the request hangs as behind a proxy that buffers the response.
    alice.page.route("**/api/stream*", lambda route: held.append(route.request.url))
    without(alice, NO_WEBSOCKET)
    alice.expect_connected("polling", timeout=15_000)
    assert len(held) == 1
    assert "cursor=general%3A" in held[0]
    chat_both_ways(alice, bob)


@pytest.mark.parametrize(
    ("scripts", "transport"),
    [((NO_WEBSOCKET,), "event stream"), ((NO_WEBSOCKET, NO_EVENTSOURCE), "polling")],
)
def test_after_a_network_drop_the_fallback_catches_up_and_sends_what_was_written(
    sign_up, scripts, transport
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    without(bob, *scripts)
    bob.expect_connected(transport)
    status = bob.page.locator("[data-connection-status]")

    bob.page.context.set_offline(True)
    expect(status).to_have_text("Offline")
    missed, queued = unique("while you were away "), unique("written offline ")
    alice.send(missed)
    expect(alice.messages(missed)).to_have_count(1)
    bob.send(queued)
    expect(bob.page.locator(".message.pending")).to_contain_text("Sending")

    bob.page.context.set_offline(False)
    bob.expect_connected(transport, timeout=5_000)
    expect(bob.messages(missed)).to_have_count(1)
    expect(bob.messages(queued)).to_have_count(1)
    expect(alice.messages(queued)).to_have_count(1)
    expect(bob.page.locator(".message.pending")).to_have_count(0)
    bodies = bob.page.locator("[data-message-list] .message [data-body]")
    assert bodies.all_text_contents()[-2:] == [missed, queued]


def test_on_a_fallback_the_page_tries_the_websocket_again_and_switches_back(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    refusing: list[bool] = [True]

    def flaky_proxy(ws) -> None:
        """Refuses WebSockets until the network is fixed, then lets them through."""
        if refusing:
            ws.close()
        else:
            ws.connect_to_server()

    alice.page.route_web_socket("**/ws/", flaky_proxy)
    alice.page.reload()
    alice.expect_connected("event stream", timeout=15_000)

    # It tries every minute, and whenever the person comes back to the window.
    refusing.clear()
    alice.page.evaluate("window.dispatchEvent(new Event('focus'))")
    alice.expect_connected("WebSocket")
    chat_both_ways(alice, bob)
