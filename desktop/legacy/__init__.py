"""Label Studio 0.8-0.9's single-project API (/api/project, completions, ...): its project state
(project), its task and completion files (files) and its model endpoints (models).

May import: desktop.data_export, desktop.data_import, desktop.core, desktop.labelconfig,
desktop.db. Never its siblings desktop.ml and desktop.io_storages, desktop.api or desktop.shell.
"""
