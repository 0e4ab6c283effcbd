"""LabelDesk: Label Studio as a desktop app.

One process runs an embedded Bottle server that implements the Label Studio REST API over a
TinyDB file store, and shows the labeling UI in a pywebview window.
"""

__version__ = "0.1.0"

# The Label Studio release whose REST API LabelDesk reproduces.
LABEL_STUDIO_COMPAT = "1.23.2"
