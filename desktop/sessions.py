"""Browser sessions for the UI: a one-time secret exchanged for an HttpOnly cookie."""


class Sessions:
    def __init__(self, core):
        self.core = core

    def user(self, request):
        """The user id of a request's valid session cookie, else None."""
        return None
