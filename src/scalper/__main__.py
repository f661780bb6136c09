"""Allow `python -m scalper`."""

import sys

from scalper.cli import main

sys.exit(main())
