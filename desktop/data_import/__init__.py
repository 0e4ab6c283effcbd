"""Getting tasks in: the import endpoint's work (JSON, CSV/TSV, text and media files, URLs),
uploads kept in <data>/media/, and whole-project files (.zip) in both directions.

May import: desktop.core, desktop.labelconfig, desktop.db. Never desktop.api or desktop.shell.
"""
