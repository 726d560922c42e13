"""The dashboard: :class:`GalleryApp` (generation panel, live grid, lightbox), thin widgets over
the :class:`~gallery_kit.gallery.Gallery` service; ``grid.js``/``grid.css`` are the anywidget's
front end, ``edit_forms`` the lightbox's operation inputs.

May import the service and the core; never boto3 or the CLI. Nothing but the notebook (and
``gallery_kit.GalleryApp``, lazily) imports it.
"""

from gallery_kit.ui.app import GalleryApp
from gallery_kit.ui.grid import GalleryGrid
from gallery_kit.ui.messages import error_page
from gallery_kit.ui.panel import GenerationPanel

__all__ = ["GalleryApp", "GalleryGrid", "GenerationPanel", "error_page"]
