"""Exports: direct downloads, snapshots, whole-project files, live export folders."""


class Exports:
    def __init__(self, core):
        self.core = core
