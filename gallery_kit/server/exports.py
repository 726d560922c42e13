"""What ``gallery-kit serve`` adds to Voilà for offline downloads: the dashboard's ZIP files,
handed out from the local store's ``gallery-kit/exports/`` folder (in S3 the browser fetches
them by a presigned link instead). A name is ``<stamp>-<random token>.zip``: the token makes
the link unguessable, and nothing but such a name is served."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tornado import web

from gallery_kit.downloads import EXPORT_NAME, SERVED_AT
from gallery_kit.records import EXPORTS_DIR

#: The URL pattern (under Voilà's base URL) and the download's own name.
ROUTE = SERVED_AT + "(" + EXPORT_NAME.pattern + ")"
_SAFE_FILENAME = re.compile(r"[A-Za-z0-9._-]{1,120}")


class ExportFileHandler(web.StaticFileHandler):
    """A finished export, streamed in chunks (ranges too), saved by the browser as the name
    the page asked for."""

    def set_extra_headers(self, path: str) -> None:
        wanted = self.get_argument("filename", "")
        filename = wanted if _SAFE_FILENAME.fullmatch(wanted) else "gallery-export.zip"
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        if not EXPORT_NAME.fullmatch(Path(absolute_path).name):
            raise web.HTTPError(404)
        return super().validate_absolute_path(root, absolute_path)


def export_handler(store_dir: Path, base_url: str = "/") -> tuple[str, type, dict[str, Any]]:
    """The handler spec to add to the server's tornado application."""
    folder = store_dir / EXPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return (base_url.rstrip("/") + "/" + ROUTE, ExportFileHandler, {"path": str(folder)})
