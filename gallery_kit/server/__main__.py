"""``python -m gallery_kit.server NOTEBOOK [voila flags]``: what ``gallery-kit serve`` runs."""

import sys

from gallery_kit.server.app import main

sys.exit(main())
