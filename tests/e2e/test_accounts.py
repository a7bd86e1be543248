"""Accounts in a real browser: logging in and out, and the account pages."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

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
