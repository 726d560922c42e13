"""gallery_kit: an AI image gallery in a Jupyter notebook (Amazon Bedrock + S3, or offline).

>>> from gallery_kit import Gallery, GenerationRequest
>>> gallery = Gallery.from_settings()          # S3_BUCKET_NAME set → AWS; unset → offline
>>> result = gallery.generate(GenerationRequest("a lighthouse at dusk", count=2))

In a notebook: ``from gallery_kit.ui import GalleryApp; GalleryApp.from_settings()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gallery_kit.adoption import AdoptReport
from gallery_kit.bedrock.families import MODELS, get_model
from gallery_kit.bedrock.lifecycle import ModelCatalog, ModelState
from gallery_kit.edits import OPERATIONS, EditRequest
from gallery_kit.errors import (
    AccessDenied,
    BudgetExceeded,
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
from gallery_kit.gallery import Gallery, GenerationResult
from gallery_kit.generation import DEFAULT_MODEL_ID, GenerationRequest, ImageGenerator, ModelSpec
from gallery_kit.offline.generator import OfflineGenerator
from gallery_kit.records import ImageRecord
from gallery_kit.settings import Settings, load_settings
from gallery_kit.stores.base import ImageStore, Page
from gallery_kit.stores.local import LocalStore
from gallery_kit.stores.outbox import Outbox, SyncReport

if TYPE_CHECKING:
    from gallery_kit.bedrock.runtime import BedrockGenerator
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
    "BudgetExceeded",
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
    # The widget stack (ipywidgets, anywidget) and botocore (S3, Bedrock) are imported only
    # when used, so `gallery-kit list` starts fast and the core loads no AWS library.
    if name == "GalleryApp":
        from gallery_kit.ui.app import GalleryApp

        return GalleryApp
    if name == "BedrockGenerator":
        from gallery_kit.bedrock.runtime import BedrockGenerator

        return BedrockGenerator
    if name == "S3Store":
        from gallery_kit.stores.s3 import S3Store

        return S3Store
    raise AttributeError(f"module 'gallery_kit' has no attribute {name!r}")
