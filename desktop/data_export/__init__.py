"""Getting annotations out: Label Studio's export formats (formats/, one module per family),
snapshot exports kept in <data>/export/, and live export folders.

May import: desktop.data_import, desktop.core, desktop.labelconfig, desktop.db. Never
desktop.api or desktop.shell.
"""
