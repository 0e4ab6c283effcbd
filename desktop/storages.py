"""Import and export storages: local folders and S3."""


class Storages:
    def __init__(self, core):
        self.core = core
