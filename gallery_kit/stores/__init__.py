"""Where images live: the :class:`~gallery_kit.stores.base.ImageStore` seam and its
implementations (``s3``: Amazon S3 or a compatible store; ``local``: a folder, the offline
default), the ``outbox`` that keeps every paid image until the store has all of it, and the
server's ``thumbcache``.

May import: the core (``records``, ``imaging``, ``errors``) and boto3 (``s3`` only). Never: the
service, ``bedrock``, ``offline``, the UI or the CLI.
"""
