"""The Bedrock implementation of the image-generator seam (``generation.ImageGenerator``):
InvokeModel or Converse through the request family of each model, throttling retried, errors
mapped. The offline implementation is in :mod:`gallery_kit.offline`."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError

from gallery_kit.bedrock.errors import RETRYABLE_CODES, map_bedrock_error
from gallery_kit.bedrock.families import CONVERSE_FAMILIES, ModelOutput, ModelSpec, adapter_for
from gallery_kit.bedrock.lifecycle import Alternative
from gallery_kit.errors import GalleryError, ModelFailed
from gallery_kit.generation import GenerationRequest

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

    from gallery_kit.bedrock.lifecycle import ModelCatalog
    from gallery_kit.edits import EditJob

log = logging.getLogger(__name__)

#: Large images can take minutes; a read timeout must never trigger a silent re-send.
READ_TIMEOUT_S = 330
CONNECT_TIMEOUT_S = 10


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
    """Calls ``InvokeModel`` (or ``Converse``) through the adapter of the model's family.

    ``catalog`` names the live model an error points to when the called one is gone.
    """

    offline = False

    def __init__(
        self,
        *,
        region: str | None = None,
        client: BedrockRuntimeClient | None = None,
        throttle_retries: int = 3,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        catalog: ModelCatalog | None = None,
    ) -> None:
        #: BEDROCK_REGION; None means each model's own default region.
        self.region = region
        self._client = client
        self._clients: dict[str, BedrockRuntimeClient] = {}
        self._lock = threading.Lock()
        self.throttle_retries = throttle_retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self.catalog = catalog

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
        call = self._converse if spec.family in CONVERSE_FAMILIES else self._call
        if len(bodies) == 1:
            return adapter.parse(spec, request, bodies[0], call(spec, bodies[0]))
        # One image per call (Stability, Nova 2 Omni): run the calls side by side, keep what
        # came back.
        output = ModelOutput()
        failures: list[GalleryError] = []
        with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
            futures = [(b, pool.submit(call, spec, b)) for b in bodies]
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
        """Run an edit (see :mod:`gallery_kit.edits`): one InvokeModel (or Converse) call."""
        if job.spec.family in CONVERSE_FAMILIES:
            return job.parse(self._converse(job.spec, job.request_body()))
        return job.parse(self.invoke_body(job.spec, job.request_body()))

    def _call(self, spec: ModelSpec, body: dict[str, Any]) -> Any:
        """One InvokeModel of the JSON ``body``; the parsed JSON answer."""
        payload = json.dumps(body)

        def send(client: BedrockRuntimeClient) -> bytes:
            response = client.invoke_model(
                modelId=spec.model_id,
                body=payload,
                contentType="application/json",
                accept="application/json",
            )
            return response["body"].read()

        raw = self._send(spec, send)
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFailed(
                f"{spec.name} returned a response that is not JSON; nothing was stored. "
                "Try again, and report it if it persists."
            ) from exc

    def _converse(self, spec: ModelSpec, request: dict[str, Any]) -> Any:
        """One Converse call with ``request`` as its keyword arguments; boto3's answer."""
        return self._send(spec, lambda client: client.converse(modelId=spec.model_id, **request))

    def _alternative(self, spec: ModelSpec) -> Alternative | None:
        if self.catalog is None:
            return None
        return self.catalog.alternative(spec.model_id)

    def _map(self, exc: Exception, spec: ModelSpec) -> GalleryError:
        return map_bedrock_error(
            exc,
            spec,
            self.region_for(spec),
            live=self._alternative(spec),
            region_setting=self.region,
        )

    def _send(self, spec: ModelSpec, send: Callable[[BedrockRuntimeClient], Any]) -> Any:
        """``send(client)``, with throttling retried and botocore errors mapped."""
        client = self.client_for(spec)
        attempt = 0
        hung_up = False
        while True:
            try:
                return send(client)
            except ConnectionClosedError as exc:
                # Closed with no answer at all: almost always a pooled keep-alive connection the
                # far end timed out just as it was reused, so nothing ran. Sent again once (a read
                # timeout, where the model may be painting, is never re-sent).
                if hung_up:
                    raise self._map(exc, spec) from exc
                log.info("%s: connection closed before an answer; sending again", spec.model_id)
                hung_up = True
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
                raise self._map(exc, spec) from exc
            except BotoCoreError as exc:
                raise self._map(exc, spec) from exc
