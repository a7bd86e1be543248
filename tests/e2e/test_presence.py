"""Presence in a real browser: the dot beside a DM in the sidebar, in member lists and
in people search; online while a tab is open, away while it is hidden, offline once
it closes; in words for screen readers, not in colour alone."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person

pytestmark = pytest.mark.e2e

SET_VISIBILITY = """state => {
  Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def dm_link(person: Person, name: str):
    return person.sidebar_list("Direct messages").get_by_role("link", name=name)


def test_a_dm_partner_is_online_away_while_hidden_and_offline_once_the_tab_closes(
    sign_up,
):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    alice.open_dm(bob.username)
    alice.expect_connected()
    link = dm_link(alice, "Bob")
    dot = link.locator("[data-presence-user]")
    expect(link).to_have_accessible_name("Bob")
    expect(link).to_have_accessible_description("(online)")
    expect(dot).to_have_attribute("data-status", "online")

    bob.page.evaluate(SET_VISIBILITY, "hidden")
    expect(link).to_have_accessible_description("(away)")
    expect(dot).to_have_attribute("title", "Away")
    bob.page.evaluate(SET_VISIBILITY, "visible")
    expect(link).to_have_accessible_description("(online)")

    bob.page.close()
    expect(link).to_have_accessible_description("(offline)")
    expect(dot).to_have_attribute("data-status", "offline")


def test_member_lists_and_people_search_show_who_is_online(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")

    alice.page.goto("/r/general/members/")
    bob_entry = alice.page.locator(f'[data-member="{bob.username}"]')
    expect(bob_entry.locator(".room-entry-name")).to_have_text(
        re.compile(r"^\s*\(online\)\s*Bob\s*$")
    )

    alice.page.goto("/dm/")
    alice.page.get_by_label("Search by name").fill(bob.username)
    result = alice.page.locator("[data-people-results] li").first
    expect(result).to_contain_text(f"(online)Bob (@{bob.username})")

    # Bob's socket closes a moment after his tab: a page shows presence as of when
    # it loaded (or last refreshed), so Alice loads it again until it says so.
    bob.page.close()
    offline = re.compile(r"^\s*\(offline\)\s*Bob\s*$")
    loaded_until(
        alice, "/r/general/members/", bob_entry.locator(".room-entry-name"), offline
    )
    alice.page.goto("/dm/")
    alice.page.get_by_label("Search by name").fill(bob.username)
    expect(result).to_contain_text("(offline)Bob")


def loaded_until(person: Person, path: str, locator, pattern, seconds: float = 10):
    deadline = time.monotonic() + seconds
    while True:
        person.page.goto(path)
        if pattern.search(locator.inner_text()) or time.monotonic() > deadline:
            break
        person.page.wait_for_timeout(200)
    expect(locator).to_have_text(pattern, timeout=1_000)
