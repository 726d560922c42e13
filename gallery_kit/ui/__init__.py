"""The dashboard: :class:`GalleryApp` (generation panel, live grid, lightbox)."""

from gallery_kit.ui.app import GalleryApp, error_page
from gallery_kit.ui.grid import GalleryGrid
from gallery_kit.ui.panel import GenerationPanel

__all__ = ["GalleryApp", "GalleryGrid", "GenerationPanel", "error_page"]
