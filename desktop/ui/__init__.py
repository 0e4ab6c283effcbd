"""The web UI's assets (pages, scripts, styles, the vendored Label Studio editor) and editor.py,
which fetches the editor at set-up and says where each asset is.

May import: desktop.core. Never desktop.api or desktop.shell.
"""
