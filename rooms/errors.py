"""Domain errors, each with the stable `code` clients see in error frames and JSON."""


class ChatError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidInput(ChatError):
    code = "invalid"


class NotFound(ChatError):
    """Also what a non-member of a private room gets: existence is private too."""

    code = "not_found"
    status = 404


class Forbidden(ChatError):
    code = "forbidden"
    status = 403
