"""Read receipts in a real browser: "Seen by" under the newest message, live, and gone
for someone who stops sharing them."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import unique

pytestmark = pytest.mark.e2e


def test_seen_by_follows_the_other_persons_reading_and_their_setting(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    alice.open_dm(bob.username)
    dm_url = alice.page.url
    alice.expect_connected()
    first = unique("did you see this? ")
    alice.send(first)
    seen = alice.page.locator("[data-seen-by]")
    expect(alice.messages(first)).to_have_count(1)
    expect(seen).to_be_hidden()

    # Bob opens the conversation and reads it: Alice's page says so at once.
    bob.page.goto(dm_url)
    bob.expect_connected()
    expect(seen).to_have_text("Seen by Bob")
    # Bob's own page names no one: Alice wrote the newest message and Bob is the reader.
    expect(bob.page.locator("[data-seen-by]")).to_be_hidden()

    # A new message is not seen until Bob reads it (his tab is open: at once).
    second = unique("and this? ")
    alice.send(second)
    expect(alice.messages(second)).to_have_count(1)
    expect(seen).to_have_text("Seen by Bob")

    # Bob stops sharing read receipts: he leaves Alice's page without a reload.
    bob.page.goto("/accounts/profile/")
    share = bob.page.get_by_label("Share read receipts")
    expect(share).to_be_checked()
    share.uncheck()
    bob.page.get_by_role("button", name="Save profile").click()
    expect(bob.page.get_by_text("Profile saved.")).to_be_visible()
    expect(seen).to_be_hidden()
    alice.page.reload()
    alice.expect_connected()
    expect(alice.messages(second)).to_have_count(1)
    expect(seen).to_be_hidden()


def test_seen_by_in_a_small_room_names_the_readers_and_lists_all_on_focus(sign_up):
    people = [sign_up(name) for name in ("Ann", "Ben", "Cat", "Dan", "Eve", "Fay")]
    ann, others = people[0], people[1:]
    name = unique("Small ")
    ann.create_room(name)
    url = ann.page.url
    for person in others:
        person.page.goto(url)
        person.page.get_by_role("button", name="Join room").click()
        person.expect_connected()
    text = unique("hello all ")
    ann.send(text)
    seen = ann.page.locator("[data-seen-by]")

    short, full = seen.locator("[data-seen-short]"), seen.locator("[data-seen-full]")

    # Everyone else has the room open: all five read it.
    expect(short).to_have_text("Seen by everyone")
    # The whole list is there for a screen reader, and on focus for everyone.
    expect(full).to_have_text("Seen by Ben, Cat, Dan, Eve, and Fay")
    expect(full).not_to_be_in_viewport()
    seen.focus()
    expect(full).to_be_in_viewport()

    # Ben stops sharing: four of five have read it, not "everyone".
    ben = others[0]
    ben.page.goto("/accounts/profile/")
    ben.page.get_by_label("Share read receipts").uncheck()
    ben.page.get_by_role("button", name="Save profile").click()
    expect(short).to_have_text("Seen by Cat, Dan and 2 others")
    expect(full).to_have_text("Seen by Cat, Dan, Eve, and Fay")
