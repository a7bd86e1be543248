"""Mentions, desktop notifications and a room's mute, in a real browser.

A spy records each Notification the page creates; the browser's own Notification
still runs, with the permission really granted to the context. Playwright keeps every
page visible (it has no way to background a tab, microsoft/playwright#2286), so a
test hides one by making document.visibilityState say "hidden" and telling the page,
as the browser does when the tab goes to the background."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import unique

pytestmark = pytest.mark.e2e

# Keeps what the page shows the user, while the real Notification does its work.
NOTIFICATION_SPY = """
(() => {
  const Real = window.Notification;
  if (!Real) return;
  window.shownNotifications = [];
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.shownNotifications.push({ title, ...options, notification: this });
    }
  };
})();
"""


def shown(person) -> list[dict]:
    return person.page.evaluate(
        "window.shownNotifications.map(({notification, ...rest}) => rest)"
    )


def set_hidden(person, hidden: bool) -> None:
    """The tab goes to the background (or comes back), as far as the page can tell."""
    person.page.evaluate(
        """(hidden) => {
          if (hidden) {
            Object.defineProperty(document, "visibilityState", {
              configurable: true, get: () => "hidden",
            });
          } else {
            delete document.visibilityState;
          }
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def room_of(owner, joiner, name: str) -> str:
    """A public room `owner` makes and `joiner` joins; its URL."""
    owner.create_room(name)
    url = owner.page.url
    joiner.page.goto(url)
    joiner.page.get_by_role("button", name="Join room").click()
    joiner.expect_connected()
    return url


def test_a_mention_is_suggested_highlighted_badged_and_notified(sign_up):
    alice = sign_up("Alice Liddell")
    bob = sign_up("Bob Builder", permissions=["notifications"])
    bob.page.add_init_script(NOTIFICATION_SPY)
    name = unique("Plans ")
    url = room_of(alice, bob, name)
    bob.page.goto("/r/general/")
    bob.expect_connected()

    # Bob turns notifications on from the button (the permission is already granted).
    button = bob.page.get_by_role("button", name=re.compile("Desktop notifications"))
    expect(button).to_have_text("Desktop notifications: on")
    expect(button).to_have_attribute("aria-pressed", "true")

    # Alice picks Bob from the suggestions with the keyboard.
    alice.page.goto(url)
    alice.expect_connected()
    box = alice.composer()
    box.press_sequentially("lunch? @bob")
    options = alice.page.get_by_role("listbox", name="People to mention")
    expect(options.get_by_role("option")).to_have_count(1)
    expect(options.get_by_role("option")).to_have_text(f"Bob Builder @{bob.username}")
    expect(options.get_by_role("option")).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute(
        "aria-activedescendant", options.get_by_role("option").get_attribute("id")
    )
    box.press("Enter")
    expect(options).to_be_hidden()
    expect(box).to_have_value(f"lunch? @{bob.username} ")
    # Escape closes the list and keeps the text; Enter then sends.
    box.press_sequentially("and @ali")
    expect(options.get_by_role("option")).to_have_count(0)  # only others are offered
    box.press("Escape")
    expect(box).to_have_value(f"lunch? @{bob.username} and @ali")

    set_hidden(bob, True)
    box.press("Enter")
    text = f"lunch? @{bob.username} and @ali"
    expect(alice.messages(text)).to_have_count(1)

    # Bob's page, hidden, shows a notification, with the message as plain text.
    bob.page.wait_for_function("() => window.shownNotifications.length === 1")
    [notification] = shown(bob)
    assert notification["title"] == f"Alice Liddell in #{name}"
    assert notification["body"] == text
    # In General, the other room has a mention badge besides its unread count.
    entry = bob.sidebar_list("Rooms").locator("li", has_text=name)
    expect(entry.locator("[data-mention-badge]")).to_have_text("@1 mention")
    expect(entry.locator("[data-badge]")).to_have_text("1 unread")

    # Clicking the notification brings Bob to the room, where the mention stands out.
    set_hidden(bob, False)
    bob.page.evaluate(
        "window.shownNotifications[0].notification.dispatchEvent(new Event('click'))"
    )
    expect(bob.page).to_have_url(url)
    mine = bob.messages(text)
    expect(mine).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(mine.locator(".mention.me")).to_have_text(f"@{bob.username}")
    expect(alice.messages(text)).not_to_have_class(re.compile(r"\bmentions-me\b"))
    # Reading it there clears the badge.
    bob.expect_connected()
    entry = bob.sidebar_list("Rooms").locator("li", has_text=name)
    expect(entry.locator("[data-mention-badge]")).to_be_hidden()


def test_a_muted_room_notifies_no_one_and_its_other_tabs_follow(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob", permissions=["notifications"])
    bob.page.add_init_script(NOTIFICATION_SPY)
    name = unique("Noisy ")
    url = room_of(alice, bob, name)
    second = bob.page.context.new_page()
    second.goto(url)
    mute = bob.page.get_by_role("button", name="Mute room")
    expect(mute).to_have_attribute("aria-pressed", "false")

    mute.click()

    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(second.get_by_role("button", name="Mute room")).to_have_attribute(
        "aria-pressed", "true"
    )
    bob.page.goto("/r/general/")
    bob.expect_connected()
    entry = bob.sidebar_list("Rooms").locator("li", has_text=name)
    expect(entry).to_have_class(re.compile(r"\bmuted\b"))
    expect(entry.get_by_role("link")).to_have_accessible_name(f"{name} (muted)")
    second.close()
    set_hidden(bob, True)

    alice.page.goto(url)
    alice.expect_connected()
    alice.send(f"@{bob.username} are you there?")
    # The mention still gets its badge; no notification comes.
    expect(entry.locator("[data-mention-badge]")).to_have_text("@1 mention")
    expect(entry.locator("[data-badge]")).to_have_text("1 unread")
    assert shown(bob) == []


def test_notifications_are_asked_for_only_from_the_button(sign_up):
    person = sign_up("Carol")
    button = person.page.get_by_role(
        "button", name=re.compile("desktop notifications", re.I)
    )

    # Headless Chromium answers a request by itself: "denied" unless granted.
    expect(button).to_have_text("Turn on desktop notifications")
    assert person.page.evaluate("Notification.permission") == "default"
    button.click()
    expect(button).to_have_text(
        re.compile(r"Desktop notifications: (on|blocked in the browser's settings)")
    )


def test_suggestions_are_driven_by_the_keyboard(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob One")
    bobby = sign_up("Bobby Two")
    name = unique("Keys ")
    url = room_of(alice, bob, name)
    bobby.page.goto(url)
    bobby.page.get_by_role("button", name="Join room").click()
    bobby.expect_connected()
    alice.page.goto(url)
    alice.expect_connected()
    box = alice.composer()
    options = alice.page.get_by_role("listbox", name="People to mention")

    box.press_sequentially("hey @bob")
    expect(options.get_by_role("option")).to_have_count(2)
    first, second = options.get_by_role("option").all()
    expect(first).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(second).to_have_attribute("aria-selected", "true")
    expect(first).to_have_attribute("aria-selected", "false")
    box.press("ArrowDown")  # round to the top
    expect(first).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(second).to_have_attribute("aria-selected", "true")
    picked = second.locator(".mention-option-username").inner_text()
    box.press("Tab")

    expect(options).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value(f"hey {picked} ")
    # A display name's later word finds its person too.
    box.press_sequentially("and @two")
    expect(options.get_by_role("option")).to_have_text(f"Bobby Two @{bobby.username}")


def test_a_direct_message_notifies_a_hidden_tab(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob", permissions=["notifications"])
    bob.page.add_init_script(NOTIFICATION_SPY)
    bob.page.reload()
    bob.expect_connected()
    alice.open_dm(bob.username)
    alice.expect_connected()
    dm = bob.sidebar_list("Direct messages").get_by_role("link", name="Alice")
    expect(dm).to_be_visible()
    set_hidden(bob, True)

    text = unique("<b>not bold</b> ")
    alice.send(text)

    bob.page.wait_for_function("() => window.shownNotifications.length === 1")
    [notification] = shown(bob)
    assert notification["title"] == "Alice"
    assert notification["body"] == text.strip()
    assert notification["tag"].startswith("message-")


def test_an_edit_that_names_someone_suggests_them_and_mentions_them(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    url = room_of(alice, bob, unique("Edits "))
    alice.page.goto(url)
    alice.expect_connected()
    text = unique("before ")
    alice.send(text)
    mine = alice.messages(text)
    mine.hover()
    mine.get_by_role("button", name="Edit message").click()
    editor = mine.get_by_role("textbox", name="Edit message")
    options = mine.get_by_role("listbox", name="People to mention")

    editor.press_sequentially(" @bo")
    expect(options.get_by_role("option")).to_have_text(f"Bob @{bob.username}")
    # Enter picks the person; it does not save the edit yet.
    editor.press("Enter")
    expect(editor).to_have_value(f"{text} @{bob.username} ")
    editor.press("Enter")

    edited = bob.messages(f"{text} @{bob.username}")
    expect(edited).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(edited.locator(".mention.me")).to_have_text(f"@{bob.username}")
