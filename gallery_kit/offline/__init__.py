"""The embedded default: images made on this machine when no AWS is configured.

- ``paint``: the deterministic placeholder painter (pure).
- ``generator``: :class:`~gallery_kit.offline.generator.OfflineGenerator`, the image-generator
  seam with no network.
- ``edits``: deterministic stand-ins for every edit operation.

May import: the core, Pillow, and ``bedrock.families`` for the documented input limits it
imitates. Never: boto3, the stores, the service, the UI or the CLI.
"""
