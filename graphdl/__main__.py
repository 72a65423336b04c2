"""``python -m graphdl ...`` runs the ``graphdl`` command (see graphdl/cli.py)."""

import sys

from .cli import main

sys.exit(main())
