"""Domain errors, each with the stable `code` clients see in error frames and JSON."""

from datetime import datetime


class ChatError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def details(self) -> dict[str, object]:
        """Fields beyond code and message that clients get with this error."""
        return {}


class InvalidInput(ChatError):
    code = "invalid"


class NotFound(ChatError):
    """Also what a non-member of a private room gets: existence is private too."""

    code = "not_found"
    status = 404


class Forbidden(ChatError):
    code = "forbidden"
    status = 403


class RateLimited(ChatError):
    """Too many actions too fast; nothing was done. Try again after `retry_after` s."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def details(self) -> dict[str, object]:
        return {"retry_after": self.retry_after}


class Muted(Forbidden):
    """The user may read but not post until `until` (site-wide, or in this room)."""

    code = "muted"

    def __init__(self, message: str, *, until: datetime, reason: str = "") -> None:
        super().__init__(message)
        self.until = until
        self.reason = reason

    def details(self) -> dict[str, object]:
        return {"until": self.until.isoformat(), "reason": self.reason}


class Banned(Forbidden):
    """The room's moderators banned the user: no rejoining, no invites."""

    code = "banned"

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason

    def details(self) -> dict[str, object]:
        return {"reason": self.reason}
