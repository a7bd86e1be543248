"""accounts views: sign-up, log in and out, password change, profile; CSRF enforced."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from rooms.models import Membership
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db]

NEW_PASSWORD = "another-stable-horse-42"


def signup_data(**overrides) -> dict:
    return {
        "username": "newcomer",
        "display_name": "New Comer",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def logged_in_as(client: Client) -> User | None:
    response = client.get(reverse("profile"))
    return response.context["user"] if response.status_code == 200 else None


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(client: Client, path: str) -> str:
    """The token a browser gets from the page that holds the form."""
    assert client.get(path).status_code == 200
    return client.cookies[settings.CSRF_COOKIE_NAME].value


# --- sign-up -------------------------------------------------------------------------------


def test_when_the_signup_page_opens_then_its_fields_are_labelled_plainly():
    response = Client().get(reverse("signup"))

    assert response.status_code == 200
    form = response.context["form"]
    labels = {name: field.label for name, field in form.fields.items()}
    assert labels["username"] == "Username"
    assert labels["password1"] == "Password"
    assert labels["password2"] == "Password confirmation"
    assert labels["display_name"] == "Display name"
    html = response.content.decode()
    for label in ("Username", "Password", "Password confirmation", "Display name"):
        assert f">{label}" in html


def test_when_someone_signs_up_then_they_are_logged_in_and_seated_in_general():
    client = Client()

    response = client.post(reverse("signup"), signup_data(display_name="  New Comer "))

    assert response.status_code == 302
    assert response["Location"] == reverse("rooms:home")
    user = User.objects.get(username="newcomer")
    assert user.display_name == "New Comer"
    assert user.check_password(PASSWORD)
    assert logged_in_as(client) == user
    assert Membership.objects.filter(user=user, room__slug="general").exists()
    # Home then takes them into the general room.
    assert client.get(reverse("rooms:home"))["Location"] == reverse(
        "rooms:detail", args=["general"]
    )


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"password2": "something-else-entirely-7"}, "password2", "didn’t match"),
        ({"username": ""}, "username", "required"),
        ({"username": "bad name!"}, "username", "valid username"),
        ({"password1": "123", "password2": "123"}, "password2", "too short"),
        ({"password1": "password", "password2": "password"}, "password2", "too common"),
        (
            {"password1": "12345678901", "password2": "12345678901"},
            "password2",
            "entirely numeric",
        ),
    ],
    ids=["mismatch", "no-username", "bad-username", "short", "common", "numeric"],
)
def test_when_the_signup_form_is_wrong_then_it_says_why_and_nobody_is_created(
    overrides, field, says
):
    users_before = User.objects.count()

    response = Client().post(reverse("signup"), signup_data(**overrides))

    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert says in errors
    assert says in response.content.decode().replace("&#x27;", "'")
    assert User.objects.count() == users_before


def test_when_a_username_is_taken_then_signup_says_so_whatever_the_case():
    UserFactory(username="Newcomer")
    users_before = User.objects.count()

    response = Client().post(reverse("signup"), signup_data(username="newcomer"))

    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["username"])
    assert User.objects.count() == users_before


def test_when_a_logged_in_user_opens_signup_then_they_go_to_the_chat():
    client = Client()
    client.force_login(UserFactory())

    response = client.get(reverse("signup"))

    assert response.status_code == 302
    assert response["Location"] == reverse("rooms:home")


# --- log in and out ------------------------------------------------------------------------


def test_when_the_login_page_opens_then_its_fields_are_labelled_plainly():
    response = Client().get(reverse("login"))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.fields["username"].label == "Username"
    assert form.fields["password"].label == "Password"


def test_when_someone_logs_in_with_the_right_password_then_they_reach_the_chat():
    user = UserFactory(username="alice")
    client = Client()

    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("rooms:home")
    assert logged_in_as(client) == user


def test_when_a_login_asks_for_a_next_page_then_it_goes_there():
    UserFactory(username="alice")
    client = Client()

    response = client.post(
        reverse("login") + "?next=/rooms/",
        {"username": "alice", "password": PASSWORD, "next": "/rooms/"},
    )

    assert response["Location"] == "/rooms/"


def test_when_a_login_asks_for_a_foreign_next_page_then_it_stays_on_site():
    UserFactory(username="alice")

    response = Client().post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password-1"), ("nobody", PASSWORD), ("alice", "")],
)
def test_when_a_login_is_wrong_then_a_clear_error_and_no_session(username, password):
    UserFactory(username="alice")
    client = Client()

    response = client.post(
        reverse("login"), {"username": username, "password": password}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "Please enter a correct username and password" in html
        or "This field is required" in html
    )
    assert logged_in_as(client) is None


def test_when_a_deactivated_user_logs_in_then_refused():
    UserFactory(username="alice", is_active=False)
    client = Client()

    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}
    )

    assert response.status_code == 200
    assert logged_in_as(client) is None


def test_when_a_user_logs_out_by_post_then_the_session_ends():
    client = Client()
    client.force_login(UserFactory())

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert logged_in_as(client) is None


def test_when_logout_is_asked_with_get_then_405_and_still_logged_in():
    user = UserFactory()
    client = Client()
    client.force_login(user)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert logged_in_as(client) == user


# --- password change -----------------------------------------------------------------------


def test_when_a_user_changes_their_password_then_the_new_one_works_and_they_stay_in():
    user = UserFactory(username="alice")
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert client.get(reverse("password_change_done")).status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert logged_in_as(client) == user


def test_when_the_old_password_is_wrong_then_a_clear_error_and_nothing_changes():
    user = UserFactory()
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "not-my-password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "old password was entered incorrectly" in " ".join(
        response.context["form"].errors["old_password"]
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_when_anonymous_opens_password_change_then_they_are_sent_to_log_in():
    response = Client().get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_when_a_password_changes_then_the_users_other_sessions_end():
    user = UserFactory()
    elsewhere = Client()
    elsewhere.force_login(user)
    here = Client()
    here.force_login(user)

    here.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert logged_in_as(here) == user
    assert logged_in_as(elsewhere) is None


# --- profile -------------------------------------------------------------------------------


def test_when_a_user_saves_their_profile_then_the_display_name_is_trimmed_and_saved():
    user = UserFactory(display_name="Old")
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("profile"), {"display_name": "  New Name  "}, follow=True
    )

    assert response.redirect_chain == [(reverse("profile"), 302)]
    assert "Profile saved." in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "New Name"


def test_when_a_display_name_is_too_long_then_a_clear_error_and_nothing_changes():
    user = UserFactory(display_name="Old")
    client = Client()
    client.force_login(user)

    response = client.post(reverse("profile"), {"display_name": "x" * 65})

    assert response.status_code == 200
    assert "at most 64 characters" in " ".join(
        response.context["form"].errors["display_name"]
    )
    user.refresh_from_db()
    assert user.display_name == "Old"


def test_when_anonymous_opens_the_profile_then_they_are_sent_to_log_in():
    response = Client().get(reverse("profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- CSRF ----------------------------------------------------------------------------------


def test_when_signup_is_posted_without_a_csrf_token_then_403_and_nobody_created():
    users_before = User.objects.count()

    response = csrf_client().post(reverse("signup"), signup_data())

    assert response.status_code == 403
    assert User.objects.count() == users_before


def test_when_signup_is_posted_with_the_pages_csrf_token_then_it_works():
    client = csrf_client()
    token = csrf_token(client, reverse("signup"))

    response = client.post(reverse("signup"), signup_data(csrfmiddlewaretoken=token))

    assert response.status_code == 302
    assert User.objects.filter(username="newcomer").exists()


def test_when_login_is_posted_without_a_csrf_token_then_403_and_no_session():
    UserFactory(username="alice")
    client = csrf_client()

    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert logged_in_as(client) is None


def test_when_login_is_posted_with_the_pages_csrf_token_then_it_works():
    user = UserFactory(username="alice")
    client = csrf_client()
    token = csrf_token(client, reverse("login"))

    response = client.post(
        reverse("login"),
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert logged_in_as(client) == user


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("logout", {}),
        ("profile", {"display_name": "Hacked"}),
        (
            "password_change",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        ),
    ],
)
def test_when_a_signed_in_form_is_posted_without_a_csrf_token_then_403_and_nothing_changes(
    name, data
):
    user = UserFactory(display_name="Original")
    client = csrf_client()
    client.force_login(user)

    response = client.post(reverse(name), data)

    assert response.status_code == 403
    user.refresh_from_db()
    assert user.display_name == "Original"
    assert user.check_password(PASSWORD)
    assert logged_in_as(client) == user
