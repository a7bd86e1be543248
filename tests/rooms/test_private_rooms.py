"""Private rooms, invites, roles and direct messages: the service rules."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from rooms import selectors, services
from rooms.errors import Forbidden, InvalidInput, NotFound
from rooms.models import Membership, Room
from tests.factories import UserFactory, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return UserFactory(username="olive")


@pytest.fixture
def secret(owner):
    return services.room_create(
        creator=owner, name="Secret plans", kind=Room.Kind.PRIVATE
    )


def role_of(room, user):
    return Membership.objects.get(room=room, user=user).role


def test_a_private_room_gets_an_unguessable_slug_and_its_creator_owns_it(owner, secret):
    assert secret.slug.startswith("secret-plans-")
    assert len(secret.slug) == len("secret-plans-") + 8
    assert role_of(secret, owner) == Membership.Role.OWNER
    again = services.room_create(
        creator=owner, name="Secret plans", kind=Room.Kind.PRIVATE
    )
    assert again.slug != secret.slug


def test_creating_a_public_room_named_like_a_private_one_reveals_nothing(owner, secret):
    public = services.room_create(creator=UserFactory(), name="Secret plans")
    assert public.slug == "secret-plans"


def test_private_rooms_are_never_listed_to_anyone(secret):
    assert secret not in selectors.public_rooms()


def test_the_owner_adds_people_by_username(owner, secret):
    bob = UserFactory(username="bob")
    services.membership_add(actor=owner, room=secret, username=" bob ")
    assert role_of(secret, bob) == Membership.Role.MEMBER


@pytest.mark.parametrize(
    ("username", "code"), [("nobody", "no_user"), ("olive", "already")]
)
def test_adding_an_unknown_or_present_person_is_a_clear_error(
    owner, secret, username, code
):
    before = Membership.objects.count()
    with pytest.raises(InvalidInput) as caught:
        services.membership_add(actor=owner, room=secret, username=username)
    assert caught.value.code == code
    assert Membership.objects.count() == before


def test_a_plain_member_cannot_add_remove_or_make_links(owner, secret):
    member = UserFactory()
    services.membership_add(actor=owner, room=secret, username=member.username)
    with pytest.raises(Forbidden):
        services.membership_add(
            actor=member, room=secret, username=UserFactory().username
        )
    with pytest.raises(Forbidden):
        services.membership_remove(actor=member, room=secret, user=owner)
    with pytest.raises(Forbidden):
        services.invite_create(actor=member, room=secret)


def test_an_outsider_managing_a_private_room_learns_nothing(secret):
    with pytest.raises(NotFound):
        services.membership_add(actor=UserFactory(), room=secret, username="olive")
    with pytest.raises(NotFound):
        services.invite_create(actor=UserFactory(), room=secret)


def test_an_invite_link_admits_until_it_expires_or_is_revoked(owner, secret):
    invite = services.invite_create(actor=owner, room=secret)
    assert (
        timedelta(days=6, hours=23)
        < invite.expires_at - timezone.now()
        <= timedelta(days=7)
    )
    guest = UserFactory()
    services.invite_accept(user=guest, token=invite.token)
    assert role_of(secret, guest) == Membership.Role.MEMBER

    services.invite_revoke(actor=owner, invite=invite)
    with pytest.raises(NotFound) as caught:
        services.invite_accept(user=UserFactory(), token=invite.token)
    assert caught.value.code == "invite_invalid"

    expired = services.invite_create(actor=owner, room=secret)
    expired.expires_at = timezone.now() - timedelta(seconds=1)
    expired.save()
    with pytest.raises(NotFound):
        services.invite_accept(user=UserFactory(), token=expired.token)
    with pytest.raises(NotFound):
        services.invite_accept(user=UserFactory(), token="made-up")


def test_public_rooms_need_no_invite_links(owner):
    room = services.room_create(creator=owner, name="Open")
    with pytest.raises(InvalidInput):
        services.invite_create(actor=owner, room=room)


def test_moderators_remove_members_but_not_the_owner_or_each_other(owner, secret):
    mod, other_mod, member = UserFactory(), UserFactory(), UserFactory()
    for user in (mod, other_mod, member):
        services.membership_add(actor=owner, room=secret, username=user.username)
    for user in (mod, other_mod):
        services.membership_set_role(
            actor=owner, room=secret, user=user, role=Membership.Role.MODERATOR
        )
    services.membership_remove(actor=mod, room=secret, user=member)
    assert not Membership.objects.filter(room=secret, user=member).exists()
    with pytest.raises(Forbidden):
        services.membership_remove(actor=mod, room=secret, user=owner)
    with pytest.raises(Forbidden):
        services.membership_remove(actor=mod, room=secret, user=other_mod)
    services.membership_remove(actor=owner, room=secret, user=other_mod)
    assert not Membership.objects.filter(room=secret, user=other_mod).exists()


def test_a_leaving_owner_hands_on_to_the_senior_moderator_else_the_senior_member(
    owner, secret
):
    first, second = UserFactory(), UserFactory()
    services.membership_add(actor=owner, room=secret, username=first.username)
    services.membership_add(actor=owner, room=secret, username=second.username)
    services.membership_set_role(
        actor=owner, room=secret, user=second, role=Membership.Role.MODERATOR
    )
    services.membership_leave(user=owner, room=secret)
    assert role_of(secret, second) == Membership.Role.OWNER

    services.membership_leave(user=second, room=secret)
    assert role_of(secret, first) == Membership.Role.OWNER


def test_the_last_member_of_a_private_room_is_told_why_they_cannot_leave(owner, secret):
    with pytest.raises(InvalidInput) as caught:
        services.membership_leave(user=owner, room=secret)
    assert caught.value.code == "last_owner"
    assert role_of(secret, owner) == Membership.Role.OWNER


def test_one_dm_per_pair_whoever_starts_it():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    room = services.dm_open(user=alice, usernames=["bob"])
    assert services.dm_open(user=bob, usernames=["alice"]) == room
    assert room.kind == Room.Kind.DIRECT
    assert set(room.memberships.values_list("user__username", flat=True)) == {
        "alice",
        "bob",
    }
    assert selectors.room_title(room=room, viewer=alice) == bob.shown_name
    assert selectors.room_title(room=room, viewer=bob) == alice.shown_name


@pytest.mark.django_db(transaction=True)
def test_two_people_starting_the_same_dm_at_the_same_instant_get_one_room():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    barrier = threading.Barrier(2)
    rooms, errors = [], []

    def start(user, other):
        try:
            barrier.wait()
            rooms.append(services.dm_open(user=user, usernames=[other]))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=start, args=(alice, "bob")),
        threading.Thread(target=start, args=(bob, "alice")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert rooms[0].pk == rooms[1].pk
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1


def test_group_dms_hold_three_to_eight_people():
    people = [UserFactory() for _ in range(8)]
    room = services.dm_open(user=people[0], usernames=[p.username for p in people[1:3]])
    assert room.memberships.count() == 3
    eight = services.dm_open(user=people[0], usernames=[p.username for p in people[1:]])
    assert eight.memberships.count() == 8
    with pytest.raises(InvalidInput) as caught:
        services.dm_open(
            user=people[0], usernames=[p.username for p in people[1:]] + ["ninth"]
        )
    assert caught.value.code == "dm_too_many"


@pytest.mark.parametrize(
    ("usernames", "code"),
    [(["alice"], "dm_self"), ([], "dm_self"), (["ghost"], "no_user")],
)
def test_bad_dm_requests_are_clear_errors_and_create_nothing(usernames, code):
    alice = UserFactory(username="alice")
    with pytest.raises(InvalidInput) as caught:
        services.dm_open(user=alice, usernames=usernames)
    assert caught.value.code == code
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_nobody_joins_a_dm_or_a_private_room_uninvited(secret):
    alice, bob = UserFactory(), UserFactory()
    dm = services.dm_open(user=alice, usernames=[bob.username])
    intruder = UserFactory()
    for room in (dm, secret):
        with pytest.raises(NotFound):
            services.membership_join(user=intruder, room=room)
        with pytest.raises(NotFound):
            services.message_send(author=intruder, room=room, body="hi")


def test_dm_members_can_talk(owner):
    bob = UserFactory()
    dm = services.dm_open(user=owner, usernames=[bob.username])
    message = send(dm, bob, "just us")
    assert message.seq == 1
