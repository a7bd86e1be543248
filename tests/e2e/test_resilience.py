"""The client on a bad network: reconnecting, catching up on lost events; and running
under the site's Content-Security-Policy."""

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import unique

pytestmark = pytest.mark.e2e

def test_after_a_network_drop_the_page_reconnects_and_shows_what_it_missed(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    status = bob.page.locator("[data-connection-status]")

    bob.page.context.set_offline(True)
    expect(status).to_have_text("Offline")
    missed = unique("while you were away ")
    alice.send(missed)
    expect(alice.messages(missed)).to_have_count(1)
    expect(bob.messages(missed)).to_have_count(0)

    bob.page.context.set_offline(False)
    expect(status).to_have_text("Connected", timeout=5_000)
    expect(bob.messages(missed)).to_have_count(1)


def test_a_message_sent_while_offline_goes_out_once_on_reconnect(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")

    alice.page.context.set_offline(True)
    expect(alice.page.locator("[data-connection-status]")).to_have_text("Offline")
    text = unique("queued ")
    alice.send(text)
    expect(alice.page.locator(".message.pending")).to_contain_text("Sending")

    alice.page.context.set_offline(False)
    expect(bob.messages(text)).to_have_count(1, timeout=5_000)
    expect(alice.messages(text)).to_have_count(1)
    expect(alice.page.locator(".message.pending")).to_have_count(0)


def test_a_lost_live_event_is_fetched_by_resuming_from_the_gap(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    lost, next_one = unique("lost on the way "), unique("and the next ")
    resumes: list[dict] = []

    def proxy(ws) -> None:
        """Bob's socket, with the live event for `lost` dropped on the floor."""
        server = ws.connect_to_server()

        def from_server(text) -> None:
            frame = json.loads(text)
            if frame.get("type") == "message" and frame["message"]["body"] == lost:
                return
            ws.send(text)

        def from_page(text) -> None:
            if json.loads(text).get("type") == "resume":
                resumes.append(json.loads(text))
            server.send(text)

        server.on_message(from_server)
        ws.on_message(from_page)

    bob.page.route_web_socket("**/ws/", proxy)
    bob.page.reload()
    bob.expect_connected()

    alice.send(lost)
    expect(alice.messages(lost)).to_have_count(1)
    alice.send(next_one)
    expect(bob.messages(next_one)).to_have_count(1)
    expect(bob.messages(lost)).to_have_count(1)
    expect(bob.messages(next_one)).to_have_count(1)
    assert len(resumes) >= 2, "one resume on connect, one for the gap"
    bodies = bob.page.locator("[data-message-list] .message [data-body]")
    assert bodies.all_text_contents()[-2:] == [lost, next_one]


def test_the_room_works_under_the_sites_content_security_policy(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    violations: list[str] = []
    bob.page.on(
        "console",
        lambda message: "Content Security Policy" in message.text
        and violations.append(message.text),
    )
    response = bob.page.reload()
    assert "script-src 'self'" in response.headers["content-security-policy"]
    bob.expect_connected()

    text = unique("policy-abiding ")
    alice.send(text)
    expect(bob.messages(text)).to_have_count(1, timeout=2_000)
    bob.send(text + " reply")
    expect(alice.messages(text + " reply")).to_have_count(1, timeout=2_000)
    assert violations == []

    # The policy really is in force: an inline script is refused.
    bob.page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__inline = 1'; document.body.append(s); }"
    )
    assert bob.page.evaluate("window.__inline") is None
