"""``python -m devtools.mem0_emulator``: see ``devtools.mem0_emulator.cli``."""

import sys

from devtools.mem0_emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
