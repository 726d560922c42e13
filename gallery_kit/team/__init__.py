"""A team's gallery: who made each image, what it cost, the spend ledger, budgets, and not
paying twice for the same request.

``identity`` (who: pure), ``sts`` (the one caller of ``sts:GetCallerIdentity``), ``costs`` (the
price table's estimate of a request, pure), ``ledger`` (one small object per paid request, read
a day with one LIST), ``spend`` (the sums, pure), ``budgets`` (the checks, pure), ``dedupe``
(a request's hash and its marker), ``actions`` (what :class:`~gallery_kit.gallery.Gallery`
offers of it). May import the core and ``stores.base``; only ``sts`` imports boto3.
"""
