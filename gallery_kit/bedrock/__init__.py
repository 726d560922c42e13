"""Everything that speaks to Amazon Bedrock.

- ``families/``: one module per request family (Nova Canvas, Nova Canvas edits, Nova 2 Omni
  through Converse, Stability text-to-image, Stability image services) and the model table
  (``MODELS``, ``get_model``). Pure: bodies in, images out; no boto3.
- ``runtime``: :class:`~gallery_kit.bedrock.runtime.BedrockGenerator`, the one module that calls
  ``bedrock-runtime`` (InvokeModel, Converse).
- ``errors``: botocore errors as gallery_kit errors, each naming the fix and a live model.
- ``lifecycle``: which models are alive (ListFoundationModels, or the table for today) and the
  default model.
- ``routing``: which model performs which edit operation for the configured family.

May import: the core (``generation``, ``errors``, ``records``, ``input_images``), botocore/boto3.
Never: the service (``gallery``), the stores, the UI or the CLI. This ``__init__`` imports
nothing, so reading the model table does not load botocore.
"""
