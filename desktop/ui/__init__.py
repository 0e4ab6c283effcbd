"""The web UI's assets (LabelDesk's own pages, scripts and styles; Label Studio's web app and
DOMPurify, vendored at set-up) and the modules that fetch them and say where each is: webapp.py
(the web app, its fonts) and vendored.py (DOMPurify, the download cache).

May import: desktop.core. Never desktop.api or desktop.shell.
"""
