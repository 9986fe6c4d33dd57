"""``python -m api``: Prism's command line (see :mod:`api.cli`)."""

import sys

from .cli import main

sys.exit(main())
