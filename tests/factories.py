"""Typed factories. Messages are made through the service so seq stays real."""

import uuid

import factory

from accounts.models import User
from rooms import services
from rooms.models import Membership, Message, Room

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username.title())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    name = factory.Sequence(lambda n: f"Room {n}")
    slug = factory.Sequence(lambda n: f"room-{n}")
    kind = Room.Kind.PUBLIC


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    room = factory.SubFactory(RoomFactory)


def member(room: Room, user: User | None = None, **kwargs) -> User:
    user = user or UserFactory()
    MembershipFactory(room=room, user=user, **kwargs)
    return user


def send(room: Room, author: User, body: str = "hello") -> Message:
    return services.message_send(
        author=author, room=room, body=body, client_id=uuid.uuid4()
    ).message
