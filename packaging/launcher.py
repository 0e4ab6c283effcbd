"""The bundle's entry point: `labeldesk [COMMAND]`, and a double-click opens the window."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from desktop.shell.cli import main
    sys.exit(main())
