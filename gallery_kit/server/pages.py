"""The two small pages the gate answers with instead of starting a kernel.

Everything shown is escaped; colours follow JupyterLab's ``--jp-*`` variables (light or dark
theme) with fallbacks for a browser that has none (the page loads no JupyterLab CSS), and the
fallbacks follow the browser's own light / dark preference.
"""

from __future__ import annotations

import html

_STYLE = """
:root { color-scheme: light dark; }
body { margin: 0; font: 15px/1.5 var(--jp-ui-font-family, system-ui, sans-serif);
  background: var(--jp-layout-color0, #fff); color: var(--jp-ui-font-color0, #1f1f1f); }
.gk-busy { max-width: 34em; margin: 12vh auto; padding: 24px 28px;
  border: 1px solid var(--jp-border-color1, #d0d0d0); border-radius: 8px;
  background: var(--jp-layout-color1, #fafafa); }
.gk-busy h1 { font-size: 20px; margin: 0 0 8px; }
.gk-busy p { margin: 6px 0; color: var(--jp-ui-font-color1, #444); }
@media (prefers-color-scheme: dark) {
  body { background: var(--jp-layout-color0, #111); color: var(--jp-ui-font-color0, #eee); }
  .gk-busy { background: var(--jp-layout-color1, #1c1c1c);
    border-color: var(--jp-border-color1, #444); }
  .gk-busy p { color: var(--jp-ui-font-color1, #ccc); }
}
"""


def _page(kind: str, title: str, lines: list[str], retry_after: str) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main class='gk-busy gk-{html.escape(kind)}' "
        f"data-retry-after='{html.escape(retry_after)}'>"
        f"<h1>{html.escape(title)}</h1>{body}</main></body></html>\n"
    )


def busy_page(viewers: int, retry_after: str) -> str:
    """HTTP 503: the server runs as many sessions as it may."""
    people = "1 person is" if viewers == 1 else f"{viewers} people are"
    return _page(
        "full",
        "The gallery is busy",
        [
            f"Busy — {people} viewing; try again shortly.",
            f"Reload this page in about {retry_after} s.",
        ],
        retry_after,
    )


def slow_down_page(per_minute: int, retry_after: str) -> str:
    """HTTP 429: this address opened more pages than ``per_minute`` in the last minute."""
    return _page(
        "rate",
        "Too many page loads",
        [
            f"This address opened more than {per_minute} pages in a minute.",
            f"Try again in about {retry_after} s.",
        ],
        retry_after,
    )
