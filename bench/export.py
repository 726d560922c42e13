"""Peak memory of the ZIP export: gallery_kit's streamed export against a naive one.

    uv run python -m bench.export            # 10,000 images of 100-200 KB (~1.5 GB), S3 2,000
    uv run python -m bench.export --quick    # 2,000 images (S3 500), under a minute
    uv run python -m bench.export --smoke    # 50 tiny images (S3 20), for the test suite

Issue 13: "Streamed: memory stays bounded (<= 100 MB for 10,000 images)". Each case runs in a
fresh child process (this module with ``--child``), so its peak is its own:

* ``cli_zip``: ``export()`` to a .zip as ``gallery-kit export`` runs it (the ids it chooses when
  no filter is given, ``record_json`` rows with the curation fields), offline (LocalStore);
* ``download_local``: the dashboard's ``make_download`` offline: the ZIP streamed into a file of
  the local store;
* ``download_s3``: ``make_download`` on S3 (moto, its own process): a multipart upload of 8 MiB
  parts. Fewer images than the local cases (moto keeps every object, and the parts of the
  export, in its own memory); the growth should not depend on the count beyond the rows;
* ``naive``: the same records read the obvious way: every original into memory, the ZIP built
  in a BytesIO, then written to a file.

The child opens the gallery (``Gallery.from_settings()``) and reads the records, notes its
resident memory (VmRSS), resets its peak (``5 > /proc/self/clear_refs``; Linux), runs the
export and reads its peak (VmHWM). VmHWM, not ru_maxrss: a child's ru_maxrss starts from its
parent's. Growth = peak - before. Originals are random bytes after a PNG signature (they do not
compress, like a PNG); the ZIP of each case is then opened by the parent: N + 2 entries, the
manifest's N lines, and a few originals compared byte for byte with the store.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

if __package__ in (None, ""):  # `python bench/export.py` works too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _chart
from bench._common import (
    CLEAN_PREFIXES,
    REPO,
    BenchRun,
    S3Server,
    aws_env,
    emit_json,
    fmt_bytes,
    machine,
    patched_environ,
    save_chart,
    tiny_png,
)

BUCKET = "gk-bench-export"
TARGET_MB = 100.0
TARGET_IMAGES = 10_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CASES = ("cli_zip", "download_local", "download_s3", "naive")
LABELS = {
    "cli_zip": "gallery_kit CLI export (.zip)",
    "download_local": "gallery_kit download, offline",
    "download_s3": "gallery_kit download, S3",
    "naive": "naive: all in memory",
}


@dataclass(frozen=True)
class Sizes:
    images: int
    s3_images: int
    original_bytes: int  # mean; each original is 2/3 to 4/3 of it


FULL = Sizes(TARGET_IMAGES, 2_000, 150_000)
QUICK = Sizes(2_000, 500, 150_000)
SMOKE = Sizes(50, 20, 1_500)


# --------------------------------------------------------------------------------------------
# The child: one case, one process
# --------------------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def _reset_peak() -> bool:
    """Set VmHWM back to the current VmRSS (Linux >= 4.0); False where it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kb("VmHWM") <= _status_kb("VmRSS") + 1024


def _all_ids(gallery: Any) -> list[str]:
    """The ids `gallery-kit export` chooses when given no filter (every image)."""
    from gallery_kit.cli.export import chosen_ids

    args = argparse.Namespace(
        words=[], board=None, favorites=False, ids=None, model=None, operation=None,
        since=None, until=None, seed=None,
    )  # fmt: skip
    return chosen_ids(gallery, args)


def _listed_ids(gallery: Any) -> list[str]:
    """Every listed id, as the dashboard's grid pages through them (summaries only)."""
    ids: list[str] = []
    cursor = None
    while True:
        listing = gallery.listing(cursor=cursor, limit=1000)
        ids += [s.id for s in listing.summaries]
        cursor = listing.next_cursor
        if cursor is None:
            return ids


def _naive_zip(gallery: Any, records: list[Any], rows: list[dict[str, Any]], out: Path) -> int:
    """The obvious way: every original in memory, the ZIP in memory, then one write."""
    import csv

    from gallery_kit.export import file_name

    originals = [(r, gallery.read_original(r)) for r in records]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for record, data in originals:
            zf.writestr(file_name(record), data)
        zf.writestr(
            "manifest.jsonl",
            "".join(json.dumps(row) + "\n" for row in rows),
            zipfile.ZIP_DEFLATED,
        )
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        zf.writestr("manifest.csv", text.getvalue(), zipfile.ZIP_DEFLATED)
    out.write_bytes(buffer.getvalue())
    return len(originals)


def child(case: str, out: Path) -> dict[str, Any]:
    """Run one case in this (fresh) process; what it measured."""
    from gallery_kit.downloads import make_download, plan_download
    from gallery_kit.export import export
    from gallery_kit.gallery import Gallery
    from gallery_kit.rows import CurationFields, record_json

    rss_imports = _status_kb("VmRSS")
    opened = time.perf_counter()
    result: dict[str, Any] = {"case": case}
    if case in ("cli_zip", "naive"):
        # As `gallery-kit export --out x.zip` runs it (cli/main.py, cli/export.py).
        gallery = Gallery.from_settings(compacts=False)
        records = [gallery.get(i) for i in _all_ids(gallery)]
        fields = CurationFields(gallery)
        rows = (
            [record_json(gallery, r, **fields.of(r.id)) for r in records] if case == "naive" else []
        )
    else:
        # As the dashboard's kernel does: its gallery, the chosen ids planned when asked.
        gallery = Gallery.from_settings()
        plan = plan_download(gallery, _listed_ids(gallery))
        records = plan.records
    result["open_s"] = round(time.perf_counter() - opened, 2)
    before_kb = _status_kb("VmRSS")
    hwm_before_kb = _status_kb("VmHWM")
    result["peak_reset"] = _reset_peak()

    start = time.perf_counter()
    if case == "cli_zip":
        report = export(
            records,
            gallery.read_original,
            lambda r: record_json(gallery, r, **fields.of(r.id)),
            out,
        )
        result["images"] = report.images
        result["zip"] = str(out)
    elif case == "naive":
        result["images"] = _naive_zip(gallery, records, rows, out)
        result["zip"] = str(out)
    else:
        download = make_download(gallery, plan)
        result["images"] = download.images
        result["problems"] = download.problems
        result["export_name"] = download.name
        result["url"] = download.url
        if case == "download_local":
            from gallery_kit.stores.local import LocalStore

            assert isinstance(gallery.store, LocalStore)
            result["zip"] = str(gallery.store.export_path(download.name))
    result["wall_s"] = round(time.perf_counter() - start, 3)
    peak_kb = _status_kb("VmHWM")
    if not result["peak_reset"]:
        peak_kb = max(peak_kb, hwm_before_kb)
    result.update(
        records=len(records),
        rss_imports_mb=round(rss_imports / 1024, 1),
        before_mb=round(before_kb / 1024, 1),
        peak_mb=round(peak_kb / 1024, 1),
        growth_mb=round((peak_kb - before_kb) / 1024, 1),
        after_mb=round(_status_kb("VmRSS") / 1024, 1),
    )
    gallery.close()
    return result


# --------------------------------------------------------------------------------------------
# The parent: seed, run each case in a child, check each ZIP
# --------------------------------------------------------------------------------------------


def seed_local(root: Path, sizes: Sizes) -> int:
    """``sizes.images`` images in a LocalStore at ``root`` (``store.put``; see below); the
    originals' total bytes."""
    from gallery_kit.imaging import make_thumbnail
    from gallery_kit.stores import local
    from gallery_kit.stores.local import LocalStore
    from tests.support.images import record_made_at

    def write_unsynced(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    # The store's own layout (store.put), without an fsync per file: setup, not measured.
    with mock.patch.object(local, "write_atomic", write_unsynced):
        store = LocalStore(root)
        thumbnail = make_thumbnail(tiny_png()).data
        rng = random.Random(13)
        mean = sizes.original_bytes
        total = 0
        for i in range(sizes.images):
            size = rng.randint(mean * 2 // 3, mean * 4 // 3)
            original = PNG_SIGNATURE + rng.randbytes(size - len(PNG_SIGNATURE))
            # Made now: an image older than a minute would also get a change marker.
            record = record_made_at(f"bench image {i}", datetime.now(UTC), seed=i)
            store.put(replace(record, byte_size=len(original)), original, thumbnail)
            total += len(original)
    return total


def run_child(case: str, env: dict[str, str], out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.export", "--child", case, "--child-out", str(out)],
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"case {case} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def check_zip(path: Path, images: int, original_of: Any, samples: int = 5) -> dict[str, Any]:
    """Open the ZIP: N originals + 2 manifests, N manifest lines, some originals byte for byte."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        lines = zf.read("manifest.jsonl").decode().splitlines()
        ids = [json.loads(line)["id"] for line in lines]
        some = random.Random(7).sample(range(len(ids)), min(samples, len(ids)))
        picks = sorted({0, len(ids) // 2, len(ids) - 1, *some})
        same = all(zf.read(f"{ids[i]}.png") == original_of(ids[i]) for i in picks)
        bad = zf.testzip()  # every entry's CRC
        originals = sum(i.file_size for i in zf.infolist() if i.filename.endswith(".png"))
    ok = len(names) == images + 2 and len(lines) == images and same and bad is None
    return {
        "entries": len(names),
        "manifest_lines": len(lines),
        "compared": len(picks),
        "original_bytes": originals,
        "ok": ok,
    }


def run_local(
    sizes: Sizes, work: Path, env_base: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], int]:
    data_dir = work / "local"
    started = time.perf_counter()
    total = seed_local(data_dir / "store", sizes)
    print(
        f"  seeded a LocalStore: {sizes.images:,} images, originals {fmt_bytes(total)} "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    from gallery_kit.stores.local import LocalStore

    store = LocalStore(data_dir / "store")

    def original_of(image_id: str) -> bytes:
        return store.read_original(store.get(image_id))

    env = {**env_base, "GALLERY_DATA_DIR": str(data_dir)}
    results: dict[str, dict[str, Any]] = {}
    for case in ("cli_zip", "download_local", "naive"):
        out = work / f"{case}.zip"
        result = run_child(case, env, out)
        zip_path = Path(result["zip"])
        result["zip_bytes"] = zip_path.stat().st_size
        result["check"] = check_zip(zip_path, sizes.images, original_of)
        zip_path.unlink()  # disk: one export at a time
        results[case] = result
        report(result)
    return results, total


def run_s3(sizes: Sizes, work: Path, env_base: dict[str, str]) -> tuple[dict[str, Any], int]:
    import boto3

    from gallery_kit.records import EXPORTS_DIR, original_key

    bucket = {"name": BUCKET, "images": sizes.s3_images, "original_bytes": sizes.original_bytes}
    started = time.perf_counter()
    with S3Server([bucket]) as server:
        seeded = server.info["seeded"][BUCKET]
        print(
            f"  seeded moto S3: {sizes.s3_images:,} images, {seeded['objects']:,} objects, "
            f"{fmt_bytes(seeded['bytes'])} ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        data_dir = work / "s3"
        env = {
            **env_base,
            **aws_env(server.url),
            "S3_BUCKET_NAME": BUCKET,
            "S3_REGION": "us-east-1",
            "GALLERY_GENERATOR": "offline",
            "GALLERY_DATA_DIR": str(data_dir),
        }
        result = run_child("download_s3", env, work / "unused.zip")
        with patched_environ(aws_env(server.url), CLEAN_PREFIXES):
            client = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1")
            zip_path = work / "download_s3.zip"
            # Only our own server's presigned URL on 127.0.0.1 reaches here.
            with (
                urllib.request.urlopen(result["url"], timeout=600) as response,  # noqa: S310
                zip_path.open("wb") as f,
            ):
                shutil.copyfileobj(response, f, 2**20)

            def original_of(image_id: str) -> bytes:
                key = original_key("", image_id, "image/png")
                body: bytes = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                return body

            result["zip_bytes"] = zip_path.stat().st_size
            result["check"] = check_zip(zip_path, sizes.s3_images, original_of)
            head = client.head_object(
                Bucket=BUCKET, Key=EXPORTS_DIR + result["export_name"], PartNumber=1
            )
            result["parts"] = head.get("PartsCount")
            zip_path.unlink()
    report(result)
    return result, int(result["check"]["original_bytes"])


def report(r: dict[str, Any]) -> None:
    check = r["check"]
    print(
        f"  {LABELS[r['case']]:<32} {r['images']:>6,} images  before {r['before_mb']:>7.1f} MB  "
        f"peak {r['peak_mb']:>7.1f} MB  growth {r['growth_mb']:>7.1f} MB  "
        f"{r['wall_s']:>6.1f} s (opening {r['open_s']:.1f} s)  zip {fmt_bytes(r['zip_bytes'])}, "
        f"{check['entries']:,} entries, "
        f"{'ok' if check['ok'] else 'WRONG'}",
        flush=True,
    )


def chart(results: dict[str, dict[str, Any]], footer: str) -> Any:
    def bar(case: str, value: float, text: str) -> _chart.Bar:
        colour = _chart.NAIVE if case == "naive" else _chart.GK
        label = f"{LABELS[case]} ({results[case]['images']:,})"
        return _chart.Bar(label, value, text, colour)

    growth = [
        bar(c, max(r["growth_mb"], 0.1), f"{r['growth_mb']:,.1f} MB") for c, r in results.items()
    ]
    wall = [bar(c, max(r["wall_s"], 0.001), f"{r['wall_s']:.1f} s") for c, r in results.items()]
    return _chart.stack(
        "ZIP export: memory growth of a fresh process (peak RSS - RSS before)",
        [
            _chart.panel(
                "Growth during the export, MB (log scale)",
                growth,
                log=True,
                target=TARGET_MB,
                target_text=f"target {TARGET_MB:.0f} MB at {TARGET_IMAGES:,} images",
                tick=lambda v: f"{v:g} MB",
            ),
            _chart.panel("Wall time of the export", wall),
        ],
        footer,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 images (< 1 min)")
    parser.add_argument("--smoke", action="store_true", help="50 tiny images, for the test suite")
    parser.add_argument("--images", type=int, help="images of the local cases")
    parser.add_argument("--s3-images", type=int, help="images of the S3 case")
    parser.add_argument("--write-docs", action="store_true", help="also write docs/bench-*.png")
    parser.add_argument("--out-dir", type=Path, help="where the chart goes (default bench/out)")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        emit_json(child(args.child, args.child_out))
        return 0

    bench_run = BenchRun()
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL
    sizes = replace(
        sizes,
        images=args.images or sizes.images,
        s3_images=args.s3_images or sizes.s3_images,
    )
    print(
        f"export: peak memory of a ZIP export, one fresh process per case; {sizes.images:,} "
        f"images of ~{fmt_bytes(sizes.original_bytes)} (S3: {sizes.s3_images:,}); {machine()}; "
        f"{bench_run.when}; 1-minute load {bench_run.load_start}",
        flush=True,
    )
    env_base = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN_PREFIXES)}
    env_base.update(aws_env())
    with tempfile.TemporaryDirectory(prefix="gk-bench-export-") as tmp:
        work = Path(tmp).resolve()
        print(f"  work folder {work} (removed at the end)", flush=True)
        results, total = run_local(sizes, work, env_base)
        results["download_s3"], s3_total = run_s3(sizes, work, env_base)
    results = {c: results[c] for c in CASES}

    naive = results["naive"]["growth_mb"]
    ratios = {
        c: round(naive / max(r["growth_mb"], 0.1), 1)
        for c, r in results.items()
        if c != "naive" and r["images"] == results["naive"]["images"]
    }
    for case, ratio in ratios.items():
        print(f"  naive growth / {LABELS[case]} growth: {ratio:,.1f}x")
    judged = [r["growth_mb"] for r in results.values() if r["case"] != "naive"]
    worst_local = max(results[c]["growth_mb"] for c in ("cli_zip", "download_local"))
    full = sizes.images >= TARGET_IMAGES
    ok = all(g <= TARGET_MB for g in judged) if full else None
    verdict = (
        ("PASS" if ok else "FAIL")
        if full
        else f"not judged at {sizes.images:,} images (reported only)"
    )
    print(
        f"  target export_memory_under_100_mb_for_10000: {verdict} (largest gallery_kit growth "
        f"{max(judged):.1f} MB; local cases {worst_local:.1f} MB at {sizes.images:,} images, "
        f"S3 {results['download_s3']['growth_mb']:.1f} MB at {sizes.s3_images:,})"
    )
    if not all(r["check"]["ok"] for r in results.values()):
        print("  a ZIP was WRONG: see the lines above", flush=True)
    if not all(r["peak_reset"] for r in results.values()):
        print("  VmHWM could not be reset: peaks include the gallery's opening", flush=True)

    footer = f"gallery_kit bench/export.py · {machine()} · {bench_run.when}"
    paths = save_chart(
        chart(results, footer), "export", write_docs=args.write_docs, out_dir=args.out_dir
    )
    for path in paths:
        print(f"  chart: {path}")
    facts = bench_run.finish()
    emit_json(
        {
            "bench": "export",
            "images": sizes.images,
            "s3_images": sizes.s3_images,
            "original_bytes_total": total,
            "s3_original_bytes_total": s3_total,
            "case_images": {c: r["images"] for c, r in results.items()},
            "before_rss_mb": {c: r["before_mb"] for c, r in results.items()},
            "peak_rss_mb": {c: r["peak_mb"] for c, r in results.items()},
            "growth_mb": {c: r["growth_mb"] for c, r in results.items()},
            "wall_s": {c: r["wall_s"] for c, r in results.items()},
            "open_s": {c: r["open_s"] for c, r in results.items()},
            "zip_bytes": {c: r["zip_bytes"] for c, r in results.items()},
            "zip_ok": {c: r["check"]["ok"] for c, r in results.items()},
            "s3_parts": results["download_s3"].get("parts"),
            "peak_reset": all(r["peak_reset"] for r in results.values()),
            "naive_over_gallery_kit": ratios,
            "targets": {"export_memory_under_100_mb_for_10000": ok},
            **facts,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
