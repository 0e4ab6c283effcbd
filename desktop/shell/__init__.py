"""The desktop app around the core: the command line (cli), the window (window, bridge,
recovery), the HTTP server (server), the object that wires the core and the API together
(app), opening a data folder and saying why it can't be (opening), and one LabelDesk per
data folder: how a second launch finds the running one and brings its window forward
(instance). cli -> window -> (instance, opening, recovery); recovery -> opening.

May import everything else; nothing else imports it (desktop.__main__ excepted).
"""
