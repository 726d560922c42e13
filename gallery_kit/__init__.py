"""gallery_kit: an AI image gallery in a Jupyter notebook (Amazon Bedrock + S3, or offline).

>>> from gallery_kit import Gallery, GenerationRequest
>>> gallery = Gallery.from_settings()          # S3_BUCKET_NAME set → AWS; unset → offline
>>> result = gallery.generate(GenerationRequest("a lighthouse at dusk", count=2))

In a notebook: ``from gallery_kit.ui import GalleryApp; GalleryApp.from_settings()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gallery_kit.catalog import ModelCatalog, ModelState
from gallery_kit.errors import (
    AccessDenied,
    ConfigError,
    ContentFiltered,
    GalleryError,
    GalleryWarning,
    GenerationError,
    ImageNotFound,
    InvalidImage,
    InvalidRequest,
    ModelFailed,
    ModelTimeout,
    ModelUnavailable,
    ServiceUnreachable,
    StorageError,
    Throttled,
)
from gallery_kit.gallery import AdoptReport, Gallery, GenerationResult
from gallery_kit.generators import BedrockGenerator, ImageGenerator
from gallery_kit.models import DEFAULT_MODEL_ID, MODELS, GenerationRequest, ModelSpec, get_model
from gallery_kit.offline import OfflineGenerator
from gallery_kit.operations import OPERATIONS, EditRequest
from gallery_kit.records import ImageRecord
from gallery_kit.settings import Settings, load_settings
from gallery_kit.stores.base import ImageStore, Page
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox, SyncReport

if TYPE_CHECKING:
    from gallery_kit.stores.s3 import S3Store
    from gallery_kit.ui.app import GalleryApp

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_MODEL_ID",
    "MODELS",
    "OPERATIONS",
    "AccessDenied",
    "AdoptReport",
    "BedrockGenerator",
    "ConfigError",
    "ContentFiltered",
    "EditRequest",
    "Gallery",
    "GalleryApp",
    "GalleryError",
    "GalleryWarning",
    "GenerationError",
    "GenerationRequest",
    "GenerationResult",
    "ImageGenerator",
    "ImageNotFound",
    "ImageRecord",
    "ImageStore",
    "InvalidImage",
    "InvalidRequest",
    "LocalStore",
    "ModelCatalog",
    "ModelFailed",
    "ModelSpec",
    "ModelState",
    "ModelTimeout",
    "ModelUnavailable",
    "OfflineGenerator",
    "Outbox",
    "Page",
    "S3Store",
    "ServiceUnreachable",
    "Settings",
    "StorageError",
    "SyncReport",
    "Throttled",
    "get_model",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    # The widget stack (ipywidgets, anywidget) and boto3's S3 are imported only when used,
    # so `gallery-kit list` starts fast.
    if name == "GalleryApp":
        from gallery_kit.ui.app import GalleryApp

        return GalleryApp
    if name == "S3Store":
        from gallery_kit.stores.s3 import S3Store

        return S3Store
    raise AttributeError(f"module 'gallery_kit' has no attribute {name!r}")
