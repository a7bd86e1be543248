"""Never lose a message, in a real browser: a long time offline, an ack lost on the way,
a reload with messages still unsent, a refusal for now and one for good."""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Person, unique
from tests.http import Session

pytestmark = pytest.mark.e2e

Frame = dict[str, Any]


class Wire:
    """A page's WebSocket through a hand that records every frame and can hold some
    back: `hold_from_page` / `hold_from_server` say which to drop on the floor."""

    def __init__(self, page: Page) -> None:
        self.from_page: list[Frame] = []
        self.from_server: list[Frame] = []
        self.hold_from_page: Callable[[Frame], bool] = lambda frame: False
        self.hold_from_server: Callable[[Frame], bool] = lambda frame: False
        self.answer_instead: Callable[[Frame], Frame | None] = lambda frame: None
        page.route_web_socket("**/ws/", self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()

        def page_said(text) -> None:
            frame = json.loads(text)
            self.from_page.append(frame)
            if (answer := self.answer_instead(frame)) is not None:
                ws.send(json.dumps(answer))
            elif not self.hold_from_page(frame):
                server.send(text)

        def server_said(text) -> None:
            frame = json.loads(text)
            self.from_server.append(frame)
            if not self.hold_from_server(frame):
                ws.send(text)

        ws.on_message(page_said)
        server.on_message(server_said)

    def sends(self, body: str) -> list[Frame]:
        return [f for f in self.from_page if f["type"] == "send" and f["body"] == body]

    def acks(self, page: Page, count: int, timeout: float = 5) -> list[Frame]:
        """The server's acks once there are `count` of them (frames are recorded as the
        page's events are handled, so this waits through the page)."""
        deadline = time.monotonic() + timeout
        while len(found := [f for f in self.from_server if f["type"] == "ack"]) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} acks came"
            page.wait_for_timeout(50)
        return found


def body_of(frame: Frame) -> str | None:
    return frame.get("message", {}).get("body")


def reconnect(person: Person) -> None:
    """Drops the line and brings it back, as a flaky network does."""
    person.page.context.set_offline(True)
    expect(person.page.locator("[data-connection-status]")).to_have_text("Offline")
    person.page.context.set_offline(False)
    person.expect_connected(timeout=5_000)


def stored_bodies(person: Person, body: str) -> int:
    """How many stored messages in #general have this body, as the server says."""
    response = person.page.request.get("/api/rooms/general/messages?limit=50")
    return [m["body"] for m in response.json()["messages"]].count(body)


def outbox_storage(page: Page) -> dict[str, list]:
    return page.evaluate(
        """() => Object.fromEntries(Object.keys(localStorage)
            .filter((key) => key.startsWith("chat:outbox:"))
            .map((key) => [key, JSON.parse(localStorage.getItem(key))]))"""
    )


def test_a_reader_offline_for_30_s_gets_all_200_messages_sent_meanwhile_in_order_once(
    sign_up, live_server_url
):
    bob = sign_up("Bob")
    alice = Session(live_server_url).signup()
    tag = unique("while offline ")
    bodies = [f"{tag}{n:03}" for n in range(200)]

    bob.page.context.set_offline(True)
    went_offline = time.monotonic()
    expect(bob.page.locator("[data-connection-status]")).to_have_text("Offline")
    seqs = [alice.send("general", body)["seq"] for body in bodies]
    time.sleep(max(0.0, 30 - (time.monotonic() - went_offline)))
    expect(bob.messages(bodies[0])).to_have_count(0)

    bob.page.context.set_offline(False)
    # Back online means trying at once, not after a backoff grown over 30 s.
    bob.expect_connected(timeout=5_000)
    expect(bob.messages(bodies[-1])).to_have_count(1)
    shown = bob.page.eval_on_selector_all(
        "[data-message-list] .message[data-seq]",
        "elements => elements.map((e) => [Number(e.dataset.seq),"
        " e.querySelector('[data-body]').textContent])",
    )
    shown_seqs = [seq for seq, _ in shown]
    assert shown_seqs == list(range(shown_seqs[0], shown_seqs[0] + len(shown))), (
        "in seq order, each once, no gaps"
    )
    ours = [(seq, body) for seq, body in shown if body.startswith(tag)]
    assert ours == list(zip(seqs, bodies, strict=True))
    expect(bob.page.locator(".message.pending")).to_have_count(0)


def test_a_send_whose_ack_was_lost_is_sent_again_with_its_client_id_and_stored_once(
    sign_up,
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    wire = Wire(bob.page)
    bob.page.reload()
    bob.expect_connected()
    text = unique("the ack got lost ")

    # The send reaches the server, but neither its ack nor its echo reach Bob.
    wire.hold_from_server = lambda frame: body_of(frame) == text
    bob.send(text)
    expect(alice.messages(text)).to_have_count(1)
    expect(bob.page.locator(".message.pending")).to_contain_text(text)

    wire.hold_from_server = lambda frame: False
    reconnect(bob)
    expect(bob.messages(text)).to_have_count(1)
    expect(bob.page.locator(".message.pending")).to_have_count(0)
    first, again = wire.sends(text)
    assert again["client_id"] == first["client_id"]
    # The catch-up after reconnecting may show the message before the retry's ack.
    [*_, ack] = wire.acks(bob.page, 2)
    assert (ack["client_id"], ack["duplicate"]) == (first["client_id"], True)
    assert stored_bodies(bob, text) == 1
    expect(alice.messages(text)).to_have_count(1)
    bob.page.reload()
    expect(bob.messages(text)).to_have_count(1)
    assert outbox_storage(bob.page) == {}


def test_a_message_written_offline_survives_a_reload_and_is_sent_with_its_client_id(
    sign_up,
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    wire = Wire(bob.page)
    bob.page.reload()
    bob.expect_connected()
    text = unique("kept across a reload ")

    # The server never hears of it: the page holds it, and so does localStorage.
    wire.hold_from_page = lambda frame: frame["type"] == "send"
    bob.send(text)
    pending = bob.page.locator(".message.pending")
    expect(pending).to_contain_text("Sending")
    [(key, [item])] = outbox_storage(bob.page).items()
    assert key.endswith(":general")
    assert item["body"] == text

    bob.page.reload()
    bob.expect_connected()
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text(text)
    expect(pending).to_contain_text("Sending")
    assert stored_bodies(bob, text) == 0

    wire.hold_from_page = lambda frame: False
    reconnect(bob)
    expect(bob.messages(text)).to_have_count(1)
    expect(alice.messages(text)).to_have_count(1)
    expect(pending).to_have_count(0)
    assert {f["client_id"] for f in wire.sends(text)} == {item["clientId"]}
    assert stored_bodies(bob, text) == 1
    assert outbox_storage(bob.page) == {}


def test_a_send_refused_for_now_stays_pending_and_goes_again(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    wire = Wire(bob.page)
    bob.page.reload()
    bob.expect_connected()
    text = unique("slow down ")
    refused: list[Frame] = []

    def flood_control_once(frame: Frame) -> Frame | None:
        if frame["type"] == "send" and not refused:
            refused.append(frame)
            return {
                "type": "error",
                "code": "rate_limited",
                "message": "You are going too fast. Try again in 0.5 s.",
                "ref": frame["client_id"],
                "retry_after": 0.5,
            }
        return None

    wire.answer_instead = flood_control_once
    bob.send(text)
    expect(bob.messages(text)).to_have_count(1)
    expect(alice.messages(text)).to_have_count(1)
    expect(bob.page.locator(".message.failed")).to_have_count(0)
    assert len(wire.sends(text)) == 2
    assert stored_bodies(bob, text) == 1


def test_a_send_refused_for_good_shows_why_survives_a_reload_and_can_be_discarded(
    sign_up,
):
    alice = sign_up()
    name = unique("Leaving ")
    alice.create_room(name)
    alice.expect_connected()
    other_tab = alice.page.context.new_page()
    other_tab.goto(alice.page.url)
    other_tab.locator("summary", has_text="Room options").click()
    other_tab.get_by_role("button", name="Leave room").click()

    text = unique("anyone here? ")
    alice.send(text)
    failed = alice.page.locator(".message.failed")
    expect(failed).to_contain_text("Not sent: ")
    expect(failed).to_contain_text("Join the room")
    failed.get_by_role("button", name="Retry").click()
    expect(failed).to_contain_text("Join the room")
    expect(alice.page.locator(".message.pending")).to_have_count(1)

    alice.page.reload()
    expect(failed).to_contain_text(text)
    expect(failed).to_contain_text("Join the room")
    failed.get_by_role("button", name="Discard").click()
    expect(alice.page.locator(".message.pending")).to_have_count(0)
    assert outbox_storage(alice.page) == {}
    alice.page.reload()
    expect(alice.page.locator(".message.pending")).to_have_count(0)
