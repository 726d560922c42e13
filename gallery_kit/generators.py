"""The image-generator seam and its Bedrock implementation (the offline one is in offline.py)."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from gallery_kit.bedrock_errors import RETRYABLE_CODES, map_bedrock_error
from gallery_kit.errors import GalleryError, ModelFailed
from gallery_kit.models import ModelOutput, ModelSpec, adapter_for
from gallery_kit.models.base import GenerationRequest

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

    from gallery_kit.operations import EditJob

log = logging.getLogger(__name__)

#: Large images can take minutes; a read timeout must never trigger a silent re-send.
READ_TIMEOUT_S = 330
CONNECT_TIMEOUT_S = 10


class ImageGenerator(Protocol):
    """Turns a validated request (seed chosen) into images."""

    #: True for generators that never reach AWS (the UI says so).
    offline: bool

    def recorded_model_id(self, spec: ModelSpec) -> str:
        """The model id written into each image's record."""
        ...

    def invoke(self, spec: ModelSpec, request: GenerationRequest) -> ModelOutput: ...


def bedrock_client(region: str) -> BedrockRuntimeClient:
    """A bedrock-runtime client with our timeouts and no automatic retries.

    botocore's retries would re-send a request after a read timeout, and every request is
    paid for; throttling is retried by :class:`BedrockGenerator` instead.
    """
    import boto3

    config = Config(
        region_name=region,
        read_timeout=READ_TIMEOUT_S,
        connect_timeout=CONNECT_TIMEOUT_S,
        retries={"total_max_attempts": 1, "mode": "standard"},
        max_pool_connections=16,
    )
    return boto3.client("bedrock-runtime", config=config)


class BedrockGenerator:
    """Calls ``InvokeModel`` through the adapter of the model's request family."""

    offline = False

    def __init__(
        self,
        *,
        region: str | None = None,
        client: BedrockRuntimeClient | None = None,
        throttle_retries: int = 3,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        #: BEDROCK_REGION; None means each model's own default region.
        self.region = region
        self._client = client
        self._clients: dict[str, BedrockRuntimeClient] = {}
        self._lock = threading.Lock()
        self.throttle_retries = throttle_retries
        self.backoff_s = backoff_s
        self._sleep = sleep

    def region_for(self, spec: ModelSpec) -> str:
        return self.region or spec.default_region

    def client_for(self, spec: ModelSpec) -> BedrockRuntimeClient:
        if self._client is not None:
            return self._client
        region = self.region_for(spec)
        with self._lock:
            if region not in self._clients:
                self._clients[region] = bedrock_client(region)
            return self._clients[region]

    def recorded_model_id(self, spec: ModelSpec) -> str:
        return spec.model_id

    def invoke(self, spec: ModelSpec, request: GenerationRequest) -> ModelOutput:
        adapter = adapter_for(spec)
        bodies = adapter.bodies(spec, request)
        if len(bodies) == 1:
            return adapter.parse(spec, request, bodies[0], self._call(spec, bodies[0]))
        # One image per call (Stability): run the calls side by side, keep what came back.
        output = ModelOutput()
        failures: list[GalleryError] = []
        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            futures = [(b, pool.submit(self._call, spec, b)) for b in bodies]
            for index, (body, future) in enumerate(futures):
                try:
                    part = adapter.parse(spec, request, body, future.result())
                except GalleryError as exc:
                    failures.append(exc)
                    continue
                for image in part.images:
                    output.images.append(replace(image, index=index))
                output.warnings.extend(part.warnings)
        if not output.images:
            raise failures[0]
        if failures:
            output.warnings.append(f"{len(failures)} of {len(bodies)} images failed: {failures[0]}")
        return output

    def invoke_body(self, spec: ModelSpec, body: dict[str, Any]) -> Any:
        """Send one ready JSON ``body`` to ``spec.model_id``; return the parsed JSON answer.

        Throttling is retried and botocore errors mapped exactly as for :meth:`invoke`.
        """
        return self._call(spec, body)

    def edit(self, job: EditJob) -> ModelOutput:
        """Run an edit (see :mod:`gallery_kit.operations`): one InvokeModel of its body."""
        return job.parse(self.invoke_body(job.spec, job.request_body()))

    def _call(self, spec: ModelSpec, body: dict[str, Any]) -> Any:
        client = self.client_for(spec)
        payload = json.dumps(body)
        attempt = 0
        while True:
            try:
                response = client.invoke_model(
                    modelId=spec.model_id,
                    body=payload,
                    contentType="application/json",
                    accept="application/json",
                )
                raw = response["body"].read()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in RETRYABLE_CODES and attempt < self.throttle_retries:
                    delay = self.backoff_s * (2**attempt) * random.uniform(0.8, 1.2)
                    log.info(
                        "%s throttled (%s); retry %d in %.1fs",
                        spec.model_id,
                        code,
                        attempt + 1,
                        delay,
                    )
                    self._sleep(delay)
                    attempt += 1
                    continue
                raise map_bedrock_error(exc, spec, self.region_for(spec)) from exc
            except BotoCoreError as exc:
                raise map_bedrock_error(exc, spec, self.region_for(spec)) from exc
            try:
                return json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ModelFailed(
                    f"{spec.name} returned a response that is not JSON; nothing was stored. "
                    "Try again, and report it if it persists."
                ) from exc
