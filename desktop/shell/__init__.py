"""The desktop app around the core: the command line (cli), the window (window, bridge,
recovery), the HTTP server (server) and the object that wires the core and the API together
(app).

May import everything else; nothing else imports it (desktop.__main__ excepted).
"""
