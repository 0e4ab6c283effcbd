"""The domain over the store: what a Label Studio user works with, and its rules.

Projects, tasks, annotations, predictions, users and sessions; the data manager (views, bulk
actions, the task query language and its indexes); settings; backups and repair of the store.
Each class takes its own store transaction (the store's lock) around what it changes, so the
API, the CLI, push/pull and the window's bridge call the same methods safely.

May import: desktop.db, desktop.labelconfig. Never desktop.api, desktop.shell or a feature
package (data_import, data_export, ml, io_storages, legacy, pushpull).
"""
