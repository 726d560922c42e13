"""Searching the whole gallery: ``query`` (the search language and its filters, pure) and
``catalog`` (a local SQLite full-text copy of the gallery's summaries, brought up to date from
the store incrementally; a cache that can always be rebuilt).

May import: the core (``records``, ``errors``, ``edits`` for the operation names) and the
stores' seam (``stores.base``). Never: bedrock, the UI or the CLI.
"""
