"""``python -m gallery_kit.cli``: the same as the ``gallery-kit`` command."""

import sys

from gallery_kit.cli.main import main

sys.exit(main())
