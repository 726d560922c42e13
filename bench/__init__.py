"""Benchmarks of gallery_kit (not tests): run each with ``uv run python -m bench.<name>``."""
