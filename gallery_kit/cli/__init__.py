"""The ``gallery-kit`` command: ``main`` (every subcommand, ``--json`` output, exit codes),
``edits`` (the vary / remove-background / edit / extend / upscale commands) and ``serve`` (the
dashboard under Voilà).

May import anything in gallery_kit; nothing imports it (it is a front end, like ``ui``).
"""
