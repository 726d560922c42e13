"""Smoke runs of the benchmarks at tiny sizes, so they never rot.

Each bench runs as a subprocess (its own moto server, Voilà and Chromium processes stay out of
the test process) with ``--smoke`` and must end with one JSON line holding its figures. Benches
are not tests: nothing here asserts a time, a ratio or a target.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import chromium_path

REPO = Path(__file__).resolve().parent.parent


def run_bench(name: str, out_dir: Path, timeout: float = 180) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", "--smoke", "--out-dir", str(out_dir)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, (
        f"bench.{name} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, f"bench.{name} printed nothing; stderr:\n{proc.stderr[-3000:]}"
    figures = json.loads(lines[-1])
    assert isinstance(figures, dict)
    assert figures["bench"] == name
    assert (out_dir / f"{name}.png").stat().st_size > 0
    return figures


def has_keys(figures: dict[str, Any], keys: set[str]) -> None:
    missing = keys - figures.keys()
    assert not missing, f"missing keys {sorted(missing)} in {figures}"


def test_gallery_page_smoke(tmp_path: Path) -> None:
    figures = run_bench("gallery_page", tmp_path)
    has_keys(
        figures,
        {
            "images",
            "requests",
            "bytes",
            "wall_s",
            "thumbnail_bytes",
            "next_requests",
            "next_bytes",
            "next_wall_s",
            "naive_requests",
            "naive_bytes",
            "naive_wall_s",
            "speedup_vs_naive",
            "bytes_ratio_vs_naive",
            "targets",
            "what_if",
        },
    )
    assert len(figures["images"]) == len(figures["requests"]) == len(figures["bytes"]) == 2
    assert all(n > 0 for n in figures["requests"] + figures["naive_requests"])


def test_generate_path_smoke(tmp_path: Path) -> None:
    figures = run_bench("generate_path", tmp_path)
    has_keys(
        figures,
        {
            "cases",
            "images",
            "wall_ms",
            "endpoint_ms",
            "overhead_ms",
            "overhead_per_image_ms",
            "thumbnail_ms",
            "uploads_in_flight",
            "five_vs_five_singles",
            "targets",
        },
    )
    assert len(figures["cases"]) == len(figures["overhead_per_image_ms"]) == 3


def test_export_smoke(tmp_path: Path) -> None:
    figures = run_bench("export", tmp_path)
    has_keys(
        figures,
        {
            "images",
            "original_bytes_total",
            "peak_rss_mb",
            "growth_mb",
            "before_rss_mb",
            "wall_s",
            "zip_ok",
            "naive_over_gallery_kit",
            "targets",
            "load_avg",
        },
    )
    cases = {"cli_zip", "download_local", "download_s3", "naive"}
    assert set(figures["peak_rss_mb"]) == set(figures["growth_mb"]) == cases
    # Every ZIP held its images and manifests, byte for byte (the bench opens each one).
    assert all(figures["zip_ok"].values())


@pytest.mark.browser
def test_dashboard_smoke(tmp_path: Path) -> None:
    if chromium_path() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI: sudo apt-get install chromium")
        pytest.skip("install Debian's Chromium: sudo apt-get install chromium")
    figures = run_bench("dashboard", tmp_path)
    has_keys(
        figures,
        {
            "images",
            "bare_s",
            "gallery_s",
            "bare_median_s",
            "gallery_median_s",
            "target_s",
            "kernel_rss_first_page_mb",
            "kernel_rss_after_paging_mb",
            "images_shown",
            "targets",
        },
    )
    assert figures["images_shown"] == figures["images"]
    has_keys(figures, {"warm_median_s", "fresh_median_s", "visitors"})
    has_keys(figures["visitors"], {"p50_s", "p95_s", "failures", "kernel_rss_median_mb"})


@pytest.mark.browser
def test_storm_smoke(tmp_path: Path) -> None:
    if chromium_path() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI: sudo apt-get install chromium")
        pytest.skip("install Debian's Chromium: sudo apt-get install chromium")
    figures = run_bench("storm", tmp_path, timeout=420)
    has_keys(
        figures,
        {"peak_kernels", "start_memory_mb", "peak_memory_mb", "final_memory_mb", "storm_codes"},
    )
    assert sum(figures["storm_codes"].values()) == figures["gets"]


def test_search_smoke(tmp_path: Path) -> None:
    figures = run_bench("search", tmp_path)
    has_keys(figures, {"results", "worst_index_ms", "targets"})
    assert [r["images"] for r in figures["results"]] == [200, 2_000]
    for result in figures["results"]:
        assert set(result["queries"]) >= {"word", "typing (prefix)", "phrase", "exclusion"}
    (s3,) = figures["s3"]
    has_keys(s3, {"cold_with_catalog", "cold_index_keys_only", "naive_estimate", "bounded_scan"})
    # The two ways of a cold start found the same matches (the bench checks it too).
    assert s3["cold_with_catalog"]["matches"] == s3["cold_index_keys_only"]["matches"]
    assert s3["poll_nothing_changed"]["requests_per_poll"] >= 1
    assert figures["kernel_memory"]["rows"] == 2_000
