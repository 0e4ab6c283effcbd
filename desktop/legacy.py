"""The Label Studio 0.8–0.9 single-project API, acting on the current project."""


class Legacy:
    def __init__(self, core):
        self.core = core
