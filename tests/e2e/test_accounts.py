"""Accounts in a real browser: logging in and out, and the account pages."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, on

pytestmark = pytest.mark.e2e


def test_log_out_then_a_wrong_password_is_refused_and_the_right_one_lets_in(sign_up):
    alice = sign_up()
    page = alice.page

    page.locator("summary", has_text="account menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/r/general/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/r/general/$"))

    page.get_by_label("Username").fill(alice.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value(alice.username)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/r/general/$"))
    alice.expect_connected()


def test_the_profile_and_password_pages_save_changes(sign_up):
    alice = sign_up("Alice")
    page = alice.page

    page.locator("summary", has_text="account menu").click()
    page.get_by_role("link", name="Profile").click()
    page.get_by_label("Display name").fill("Alice Liddell")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("Profile saved")
    expect(page.get_by_label("Display name")).to_have_value("Alice Liddell")

    page.get_by_role("link", name="Change password").first.click()
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password confirmation").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#id_new_password2_error")).to_contain_text("too short")

    new_password = PASSWORD + "-renewed"
    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password confirmation").fill(new_password)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()


@pytest.mark.parametrize("transport", ["WebSocket", "event stream", "polling"])
def test_logging_out_in_one_tab_tells_the_sessions_other_tabs_and_they_stop(
    sign_up, transport
):
    alice = on(sign_up(), transport)
    other_tab = alice.page.context.new_page()
    other_tab.goto("/r/general/")
    expect(other_tab.locator("[data-connection-status]")).to_have_text(
        f"Connected ({transport})"
    )
    requests: list[str] = []
    alice.page.on("request", lambda request: requests.append(request.url))

    other_tab.locator("summary", has_text="account menu").click()
    other_tab.get_by_role("button", name="Log out").click()

    status = alice.page.get_by_role("status")
    expect(status).to_have_text("Signed out. You logged out.")
    login = alice.page.get_by_role("link", name="Log in again")
    expect(login).to_be_visible()
    expect(alice.page.get_by_role("button", name="Retry now")).to_be_hidden()
    # It stops: no more tries to reconnect.
    requests.clear()
    alice.page.wait_for_timeout(3_000)
    assert [url for url in requests if "/ws/" in url or "/api/" in url] == []

    login.click()
    expect(alice.page).to_have_url(re.compile(r"/accounts/login/\?next=/r/general/$"))
