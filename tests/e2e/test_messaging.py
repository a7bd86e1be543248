"""Sending and receiving in a real browser: live delivery, exactly once, as text."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import unique

pytestmark = pytest.mark.e2e

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


def test_a_message_reaches_the_other_person_live_exactly_once_and_survives_reload(
    sign_up,
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    first, second = unique("hello "), unique("and again ")

    alice.send(first)
    expect(bob.messages(first)).to_have_count(1, timeout=2_000)
    alice.send(second)
    # Frames on one socket arrive in order: once the second message is in, any
    # duplicate of the first (its ack and its echo) would have arrived too.
    for person in (alice, bob):
        expect(person.messages(second)).to_have_count(1)
        expect(person.messages(first)).to_have_count(1)
        expect(person.page.locator(".message.pending")).to_have_count(0)
        # One author, a moment apart: the second reads as part of the first.
        expect(person.messages(second)).to_have_class(re.compile(r"\bcontinued\b"))
    expect(bob.page.locator("[data-announcer]")).to_have_text(f"Alice: {second}")

    for person in (alice, bob):
        person.page.reload()
        expect(person.messages(first)).to_have_count(1)
        expect(person.messages(second)).to_have_count(1)
    expect(bob.messages(first).locator("[data-author]")).to_have_text("Alice")
    expect(bob.messages(first).locator("time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
    )


def test_markup_in_a_message_shows_as_text_and_never_runs(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")

    alice.send(XSS)
    for person in (bob, alice):
        expect(person.messages(XSS)).to_have_count(1, timeout=2_000)
    for person in (alice, bob):
        person.page.reload()
        expect(person.messages(XSS)).to_have_count(1)
        markup = person.page.locator("[data-message-list]").locator("img, script")
        assert markup.count() == 0
        assert person.page.evaluate("typeof window.__xss") == "undefined"


def test_keyboard_alone_sends_with_enter_and_breaks_lines_with_shift_enter(sign_up):
    alice = sign_up()
    alice.create_room(unique("Keys "))
    alice.expect_connected()
    page = alice.page

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to message box")).to_be_focused()
    page.keyboard.press("Enter")
    expect(alice.composer()).to_be_focused()

    page.keyboard.type("line one")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("line two")
    page.keyboard.press("Enter")
    expect(alice.messages("line one\nline two")).to_have_count(1)
    expect(alice.composer()).to_have_value("")

    page.keyboard.press("Enter")
    page.keyboard.type("   ")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Enter")
    expect(alice.composer()).to_have_value("   \n")
    page.keyboard.press("Control+A")
    page.keyboard.type("after the blanks")
    page.keyboard.press("Enter")

    expect(alice.messages("after the blanks")).to_have_count(1)
    expect(alice.messages()).to_have_count(2)
    expect(page.locator(".message.pending")).to_have_count(0)
    expect(page.locator("[data-composer-error]")).to_be_empty()


def test_a_message_over_the_limit_is_held_back_with_the_reason_and_kept(sign_up):
    alice = sign_up()
    page = alice.page
    limit = page.evaluate(
        "JSON.parse(document.getElementById('client-state').textContent).max_length"
    )

    alice.composer().fill("x" * (limit - 10))
    expect(page.locator("[data-composer-count]")).to_contain_text(f"/ {limit:,}")
    alice.composer().fill("x" * (limit + 1))
    alice.composer().press("Enter")
    expect(page.locator("[data-composer-error]")).to_contain_text(f"limit is {limit:,}")
    expect(alice.composer()).to_have_value("x" * (limit + 1))
    expect(page.locator(".message.pending")).to_have_count(0)


def test_a_refused_message_is_marked_not_sent_and_its_text_can_be_taken_back(sign_up):
    alice = sign_up()
    name = unique("Leaving ")
    alice.create_room(name)
    alice.expect_connected()
    # Leave from a second tab: this tab still shows the composer.
    other_tab = alice.page.context.new_page()
    other_tab.goto(alice.page.url)
    other_tab.locator("summary", has_text="Room options").click()
    other_tab.get_by_role("button", name="Leave room").click()
    expect(other_tab).to_have_url(re.compile(r"/rooms/$"))

    alice.send("are you still there?")
    failed = alice.page.locator(".message.failed")
    expect(failed).to_contain_text("Not sent")
    expect(alice.page.locator("[data-composer-error]")).to_contain_text("Join the room")
    sidebar = alice.page.locator("#sidebar")
    expect(sidebar.get_by_role("link", name=name)).to_have_count(0)
    failed.get_by_role("button", name="Edit").click()
    expect(alice.composer()).to_have_value("are you still there?")
    expect(alice.composer()).to_be_focused()
    expect(failed).to_have_count(0)
