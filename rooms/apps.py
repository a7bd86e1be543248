from django.apps import AppConfig


class RoomsConfig(AppConfig):
    name = "rooms"

    def ready(self) -> None:
        # Connects the receivers that end live connections when a sign-in ends.
        from rooms import sessions  # noqa: F401
