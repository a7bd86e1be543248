"""“Alice is typing…” in a real browser: shown to the others in the room, named as
typed (as text), never to the typist; cleared when the message arrives, and by itself
a few seconds after the typing stops; over the fallback transports too."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person
from tests.e2e.test_transports import NO_WEBSOCKET, without

pytestmark = pytest.mark.e2e


def typing_line(person: Person):
    return person.page.locator("[data-typing]")


def type_some(person: Person, text: str = "hel") -> None:
    person.composer().press_sequentially(text)


def test_who_is_typing_shows_under_the_box_and_clears_when_the_message_comes(sign_up):
    alice = sign_up("Alice <i>A</i>")
    bob = sign_up("Bob")
    carol = sign_up("Carol")
    line = typing_line(bob)
    expect(line).to_have_attribute("aria-live", "polite")

    type_some(alice)
    expect(line).to_have_text("Alice <i>A</i> is typing…")
    type_some(carol)
    expect(line).to_have_text("Alice <i>A</i> and Carol are typing…")
    # Nobody is told that they themselves are typing.
    expect(typing_line(alice)).to_have_text("Carol is typing…")

    alice.composer().press("Enter")
    # At once, long before the notice would lapse by itself.
    expect(line).to_have_text("Carol is typing…", timeout=2_000)

    # Carol stops without sending: her notice lapses after a few seconds.
    expect(line).to_have_text("", timeout=9_000)


def test_three_typists_are_several_people(sign_up):
    typists = [sign_up(name) for name in ("Ann", "Ben", "Cat")]
    reader = sign_up("Dan")
    for person in typists:
        type_some(person)
    expect(typing_line(reader)).to_have_text("Several people are typing…")


def test_typing_travels_over_the_event_stream_both_ways(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    without(alice, NO_WEBSOCKET)
    alice.expect_connected("event stream")

    type_some(bob)
    expect(typing_line(alice)).to_have_text("Bob is typing…")
    type_some(alice)  # POSTed to /api/frames
    expect(typing_line(bob)).to_have_text("Alice is typing…")
