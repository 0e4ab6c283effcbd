"""Cloud and local storages, as Label Studio's io_storages: import storages that sync files in
as tasks and export storages that write annotations out; local files (localfiles) and S3 (s3).

May import: desktop.data_export, desktop.data_import, desktop.core, desktop.db. Never
desktop.api or desktop.shell.
"""
