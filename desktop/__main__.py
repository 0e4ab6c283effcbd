import sys

from desktop.shell.cli import main

sys.exit(main())
