"""``python -m vigie_tools`` is the ``vigie`` command."""

import sys

from vigie_tools.cli import main

sys.exit(main())
