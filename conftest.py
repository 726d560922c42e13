"""Root pytest hooks: notebooks run by nbmake get the same hermetic settings as the tests.

nbmake's items take no fixtures, so the environment is set around each notebook run here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# The browser fixtures (one Chromium for the whole session) are registered once, here: imported
# into two test modules they would start Playwright twice.
pytest_plugins = ["tests.support.browser"]

_NOTEBOOK_ENV = ("GALLERY_ENV_FILE", "GALLERY_DATA_DIR", "S3_BUCKET_NAME", "GALLERY_GENERATOR")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    if not str(item.path).endswith(".ipynb"):
        return (yield)
    saved = {name: os.environ.get(name) for name in _NOTEBOOK_ENV}
    with tempfile.TemporaryDirectory(prefix="gk-nb-") as data:
        os.environ["GALLERY_ENV_FILE"] = ""  # never a developer's .env: offline mode
        os.environ["GALLERY_DATA_DIR"] = data
        os.environ.pop("S3_BUCKET_NAME", None)
        os.environ.pop("GALLERY_GENERATOR", None)
        try:
            return (yield)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
