"""The client on a bad network: reconnecting, catching up on lost events; and running
under the site's Content-Security-Policy."""

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, by_id, on, sent, tool, unique

pytestmark = pytest.mark.e2e


def until(person: Person, condition, seconds: float = 10) -> bool:
    """Whether `condition()` holds within `seconds`, the page's events running
    meanwhile (a socket proxy's handlers among them)."""
    for _ in range(int(seconds * 10)):
        if condition():
            return True
        person.page.wait_for_timeout(100)
    return condition()


def edit(person: Person, message_id: str, text: str) -> None:
    """Edits one of the person's messages through its toolbar."""
    mine = by_id(person, message_id)
    tool(mine, "Edit message").click()
    mine.get_by_role("textbox", name="Edit message").fill(text)
    mine.get_by_role("textbox", name="Edit message").press("Enter")
    expect(person.messages(text)).to_have_count(1)


def test_after_a_network_drop_the_page_catches_up_and_sends_what_was_written(
    sign_up,
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    status = bob.page.locator("[data-connection-status]")

    bob.page.context.set_offline(True)
    expect(status).to_have_text("Offline")
    missed, queued = unique("while you were away "), unique("written offline ")
    alice.send(missed)
    expect(alice.messages(missed)).to_have_count(1)
    bob.send(queued)
    expect(bob.page.locator(".message.pending")).to_contain_text("Sending")
    expect(bob.messages(missed)).to_have_count(0)

    bob.page.context.set_offline(False)
    expect(status).to_have_text("Connected (WebSocket)", timeout=5_000)
    expect(bob.messages(missed)).to_have_count(1)
    expect(bob.messages(queued)).to_have_count(1)
    expect(alice.messages(queued)).to_have_count(1)
    expect(bob.page.locator(".message.pending")).to_have_count(0)
    bob.page.reload()
    expect(bob.messages(queued)).to_have_count(1)


@pytest.mark.parametrize("transport", ["WebSocket", "event stream", "polling"])
def test_edits_deletions_and_reactions_made_while_away_show_after_the_reconnect(
    sign_up, transport
):
    alice = sign_up("Alice")
    bob = on(sign_up("Bob"), transport)
    draft, regrettable = unique("first draft "), unique("regrettable ")
    edited_id, deleted_id = sent(alice, draft), sent(alice, regrettable)
    expect(bob.messages(regrettable)).to_have_count(1)

    bob.page.context.set_offline(True)
    expect(bob.page.locator("[data-connection-status]")).to_have_text("Offline")
    mine, final = by_id(alice, edited_id), unique("final ")
    edit(alice, edited_id, final)
    tool(mine, "React to this message").click()
    mine.get_by_role("group", name="Add a reaction").get_by_role("button").first.click()
    expect(mine.locator(".reaction", has_text="👍")).to_have_text("👍1")
    tool(by_id(alice, deleted_id), "Delete message").click()
    by_id(alice, deleted_id).get_by_role("button", name="Yes, delete").click()
    expect(by_id(alice, deleted_id).locator("[data-body]")).to_have_text(
        "message deleted"
    )
    expect(bob.messages(draft)).to_have_count(1)

    bob.page.context.set_offline(False)
    bob.expect_connected(transport, timeout=5_000)
    theirs = by_id(bob, edited_id)
    expect(theirs.locator("[data-body]")).to_have_text(final)
    expect(theirs.locator("[data-state]")).to_have_text("(edited)")
    expect(theirs.locator(".reaction", has_text="👍")).to_have_text("👍1")
    expect(by_id(bob, deleted_id).locator("[data-body]")).to_have_text(
        "message deleted"
    )
    expect(bob.messages(regrettable)).to_have_count(0)


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


def test_a_lost_change_is_fetched_when_the_next_change_skips_its_number(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    first, second = unique("first "), unique("second ")
    first_id, second_id = sent(alice, first), sent(alice, second)
    lost = unique("edit lost on the way ")
    resumes: list[dict] = []

    def proxy(ws) -> None:
        """Bob's socket, with the live event for the edit to `lost` dropped."""
        server = ws.connect_to_server()

        def from_server(text) -> None:
            frame = json.loads(text)
            if frame.get("message", {}).get("body") == lost:
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
    expect(bob.messages(second)).to_have_count(1)
    assert until(bob, lambda: resumes), "the page resumes when it connects"
    on_connect = len(resumes)

    edit(alice, first_id, lost)
    tool(by_id(alice, second_id), "React to this message").click()
    by_id(alice, second_id).get_by_role("group", name="Add a reaction").get_by_role(
        "button"
    ).first.click()

    expect(by_id(bob, second_id).locator(".reaction")).to_have_text("👍1")
    expect(by_id(bob, first_id).locator("[data-body]")).to_have_text(lost)
    # Only a catch-up could bring it: the gap in change numbers asked for one.
    assert len(resumes) > on_connect and "changes" in resumes[-1]


def test_a_change_that_comes_late_does_not_undo_a_newer_one(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    message_id = sent(alice, unique("draft "))
    older, newer, after = unique("older "), unique("newer "), unique("after ")
    held: list[str] = []

    def proxy(ws) -> None:
        """Bob's socket, with the edit to `older` held back until the catch-up that
        the gap before `newer` asks for has answered: it comes last of all."""
        server = ws.connect_to_server()

        def from_server(text) -> None:
            frame = json.loads(text)
            if frame.get("message", {}).get("body") == older and not held:
                held.append(text)
                return
            ws.send(text)
            if frame["type"] == "messages" and held:
                ws.send(held.pop())

        server.on_message(from_server)
        ws.on_message(server.send)

    bob.page.route_web_socket("**/ws/", proxy)
    bob.page.reload()
    bob.expect_connected()

    edit(alice, message_id, older)
    edit(alice, message_id, newer)
    assert until(bob, lambda: not held), "the gap's catch-up came, the late edit after"
    alice.send(after)

    # The late edit reached the page before `after`, and the page kept the newer text.
    expect(bob.messages(after)).to_have_count(1)
    expect(by_id(bob, message_id).locator("[data-body]")).to_have_text(newer)


def test_when_the_server_says_resync_the_page_reloads_the_newest_messages(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    lost = unique("too much to replay ")

    def proxy(ws) -> None:
        """Bob's socket loses `lost`, and the server answers his catch-up with resync."""
        server = ws.connect_to_server()

        def from_server(text) -> None:
            frame = json.loads(text)
            if frame.get("type") == "message" and frame["message"]["body"] == lost:
                ws.send(json.dumps({**frame, "type": "dropped"}))
                return
            ws.send(text)

        def from_page(text) -> None:
            frame = json.loads(text)
            if frame.get("type") == "resume" and resync_next:
                resync_next.pop()
                resync = {"type": "resync", "room": "general", "last_seq": 0}
                ws.send(json.dumps(resync))
                return
            server.send(text)

        server.on_message(from_server)
        ws.on_message(from_page)

    resync_next: list[bool] = []
    bob.page.route_web_socket("**/ws/", proxy)
    bob.page.reload()
    bob.expect_connected()

    resync_next.append(True)
    alice.send(lost)
    expect(alice.messages(lost)).to_have_count(1)
    alice.send("after the gap")
    expect(bob.messages(lost)).to_have_count(1)
    expect(bob.messages("after the gap")).to_have_count(1)
    assert resync_next == [], "the gap was answered with resync"


def test_on_a_phone_the_sidebar_opens_from_a_labelled_toggle(sign_up):
    alice = sign_up(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = alice.page
    toggle = page.get_by_role("button", name="Rooms")
    general = page.locator("#sidebar").get_by_role("link", name="General")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(general).to_be_hidden()

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(general).to_be_visible()
    expect(page.locator("#sidebar a").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(general).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(alice.composer()).to_be_visible()


def test_the_room_works_under_the_sites_content_security_policy(sign_up):
    bob = sign_up("Bob")
    console = []
    bob.page.on("console", lambda message: console.append(message.text))
    response = bob.page.reload()
    assert "script-src 'self'" in response.headers["content-security-policy"]
    bob.expect_connected()

    text = unique("policy-abiding ")
    bob.send(text)
    expect(bob.messages(text)).to_have_count(1, timeout=2_000)
    expect(bob.page.locator(".message.pending")).to_have_count(0)
    assert [text for text in console if "Content Security Policy" in text] == []

    # The policy really is in force: an inline script is refused.
    bob.page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__inline = 1'; document.body.append(s); }"
    )
    assert bob.page.evaluate("window.__inline") is None


def test_a_line_gone_silent_is_given_up_within_30_s_and_the_page_reconnects(sign_up):
    """A socket that stays open but carries nothing (a NAT that forgot the flow): the
    page pings it, hears nothing, and reconnects, in 30 s of its own (fake) time."""
    bob = sign_up("Bob")
    bob.page.clock.install()
    sockets: list = []
    silenced: list = []
    pings: list[dict] = []

    def proxy(ws) -> None:
        server = ws.connect_to_server()
        sockets.append(ws)

        def from_server(text) -> None:
            if ws not in silenced:
                ws.send(text)

        def from_page(text) -> None:
            if json.loads(text).get("type") == "ping":
                pings.append(json.loads(text))
            if ws not in silenced:
                server.send(text)

        server.on_message(from_server)
        ws.on_message(from_page)

    bob.page.route_web_socket("**/ws/", proxy)
    bob.page.reload()
    bob.expect_connected()
    status = bob.page.locator("[data-connection-status]")

    # This flow goes dead both ways; a new connection gets through.
    silenced.extend(sockets)
    bob.page.clock.run_for(14_000)
    expect(status).to_have_text("Connected (WebSocket)")
    assert pings == []
    bob.page.clock.run_for(16_000)
    assert pings, "a quiet line is pinged"
    for _ in range(50):
        if len(sockets) > 1:
            break
        bob.page.wait_for_timeout(100)
    assert len(sockets) == 2, "given up, and a new socket opened"
    bob.expect_connected()
    bob.send("through the new socket")
    expect(bob.messages("through the new socket")).to_have_count(1)
