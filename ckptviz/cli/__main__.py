"""``python -m ckptviz.cli``: the ``ckptviz`` command."""

import sys

from . import main

sys.exit(main())
