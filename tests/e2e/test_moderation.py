"""Moderation in a real browser: a moderator deletes a message from its menu and the
other person's open page shows it deleted at once; a member reports one."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import unique

pytestmark = pytest.mark.e2e


def join_room_of(person, owner) -> None:
    person.page.goto(owner.page.url)
    person.page.get_by_role("button", name="Join room").click()
    expect(person.composer()).to_be_visible()
    person.expect_connected()


def test_a_moderator_deletes_a_message_with_a_reason_and_it_goes_at_once_everywhere(
    sign_up, live_site
):
    alice = sign_up("Alice")
    alice.create_room(unique("Moderated "))
    alice.expect_connected()
    bob = sign_up("Bob")
    join_room_of(bob, alice)
    text = unique("buy cheap pills ")
    bob.send(text)
    expect(alice.messages(text)).to_have_count(1, timeout=2_000)
    message_id = alice.messages(text).get_attribute("data-id")

    # Keyboard only: the menu button takes focus, Enter opens it, Tab goes through
    # Report to Delete.
    menu = alice.page.get_by_label("Options for the message from Bob")
    menu.focus()
    alice.page.keyboard.press("Enter")
    alice.page.keyboard.press("Tab")
    expect(alice.page.get_by_role("button", name="Report…")).to_be_focused()
    alice.page.keyboard.press("Tab")
    expect(alice.page.get_by_role("button", name="Delete…")).to_be_focused()
    alice.page.keyboard.press("Enter")
    dialog = alice.page.get_by_role("dialog", name="Delete message")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    alice.page.keyboard.type("spam")
    dialog.get_by_role("button", name="Delete", exact=True).click()

    expect(dialog).to_be_hidden()
    for person in (bob, alice):
        body = person.page.locator(f".message[data-id='{message_id}'] [data-body]")
        expect(body).to_have_text("message deleted")
        expect(body).to_have_class(re.compile(r"\bdeleted\b"))
    expect(bob.page.get_by_text(text)).to_have_count(0)
    expect(alice.page.locator("[data-announcer]")).to_have_text("Message deleted.")
    logged = live_site.manage(
        "shell",
        "-c",
        "from rooms.models import ModerationLog\n"
        f"print(ModerationLog.objects.get(message_id={int(message_id)}).reason)",
    )
    assert logged.strip().splitlines()[-1] == "spam"


def test_a_member_reports_a_message_and_cannot_delete_it(sign_up, live_site):
    alice = sign_up("Alice")
    alice.create_room(unique("Reports "))
    alice.expect_connected()
    text = unique("you are all wrong ")
    alice.send(text)
    bob = sign_up("Bob")
    join_room_of(bob, alice)
    expect(bob.messages(text)).to_have_count(1)

    bob.messages(text).hover()
    bob.page.get_by_label("Options for the message from Alice").click()
    expect(bob.page.get_by_role("button", name="Delete…")).to_have_count(0)
    bob.page.get_by_role("button", name="Report…").click()
    dialog = bob.page.get_by_role("dialog", name="Report message")
    expect(dialog.locator("[data-moderation-quote]")).to_contain_text(text)
    dialog.get_by_label("Reason").fill("rude")
    dialog.get_by_role("button", name="Report", exact=True).click()

    expect(dialog).to_be_hidden()
    expect(bob.page.locator("[data-announcer]")).to_contain_text("report is with")
    expect(bob.messages(text)).to_have_count(1)
    # A member's own message has nothing to report, and no menu.
    bob.send("my own words")
    expect(bob.messages("my own words")).to_have_count(1)
    expect(bob.page.get_by_label("Options for your message")).to_have_count(0)
    reports = live_site.manage(
        "shell",
        "-c",
        "from rooms.models import Report\n"
        f"print(Report.objects.filter(message__body={text!r}).count())",
    )
    assert reports.strip().splitlines()[-1] == "1"


def test_a_muted_member_reads_why_and_a_send_is_held_back_with_the_reason(sign_up):
    alice = sign_up("Alice")
    alice.create_room(unique("Muting "))
    alice.expect_connected()
    bob = sign_up("Bob")
    join_room_of(bob, alice)
    room_url = bob.page.url

    members = alice.page
    members.goto(f"{room_url}members/")
    members.get_by_label("Mute or ban Bob").click()
    members.get_by_label("Reason for muting or banning Bob").fill("heated")
    members.get_by_role("button", name="Mute Bob for 10 minutes").click()
    expect(members.locator(".flash")).to_contain_text("Muted Bob.")

    bob.send("can I still talk?")
    refused = bob.page.locator(".message.failed")
    expect(refused).to_contain_text("You are muted in this room until")
    expect(refused).to_contain_text("heated")
    bob.page.reload()
    expect(bob.page.locator("[data-moderation-banner]")).to_contain_text(
        "You are muted in this room until"
    )
