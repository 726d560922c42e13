"""The model picker's knowledge of what is alive: ListFoundationModels over real HTTP (the local
endpoint, reached by boto3's ``bedrock`` client through AWS_ENDPOINT_URL_BEDROCK), cached per
session, with a quiet fall-back to the built-in table."""

from __future__ import annotations

import logging
import os
import socket
from datetime import date
from typing import Any

import pytest

from gallery_kit.bedrock.families import MODELS
from gallery_kit.bedrock.lifecycle import ModelCatalog
from gallery_kit.settings import load_settings
from tests.support.bedrock import MESSAGES, BedrockEndpoint, Reply, foundation_model

NOVA = "amazon.nova-canvas-v1:0"
TITAN = "amazon.titan-image-generator-v2:0"
CORE = "stability.stable-image-core-v1:1"
REMOVE_BG = "us.stability.stable-image-remove-background-v1:0"


@pytest.fixture
def control_plane(bedrock: BedrockEndpoint) -> BedrockEndpoint:
    """The local endpoint; conftest points AWS_ENDPOINT_URL_BEDROCK at it too."""
    assert os.environ["AWS_ENDPOINT_URL_BEDROCK"] == bedrock.url
    return bedrock


def listings(endpoint: BedrockEndpoint) -> list[Any]:
    return list(endpoint.control_requests)


#: A day between Nova Canvas's legacy date and its end of life (2026-03-30 .. 2026-09-30).
BEFORE_EOL = date(2026, 5, 1)


def test_statuses_come_from_bedrock_per_model_region(
    nova_canvas: str, control_plane: BedrockEndpoint
) -> None:
    states = ModelCatalog().states()
    assert (states[NOVA].status, states[NOVA].region, states[NOVA].source) == (
        "legacy",
        "us-east-1",
        "bedrock",
    )
    assert (states[CORE].status, states[CORE].region) == ("active", "us-west-2")
    assert states[REMOVE_BG].status == "active"  # listed under its bare id
    assert states[TITAN].status == "end-of-life"  # not listed, and known to be gone
    assert states[NOVA].usable
    assert not states[TITAN].usable
    sent = listings(control_plane)
    assert sorted(r.region for r in sent) == ["us-east-1", "us-west-2"]
    assert all("byOutputModality=IMAGE" in r.path for r in sent)
    assert control_plane.violations == []


def test_asked_once_per_session(control_plane: BedrockEndpoint) -> None:
    catalog = ModelCatalog(region="us-west-2")
    catalog.states()
    catalog.states()
    assert catalog.state("us." + CORE).status == "active"
    assert len(listings(control_plane)) == 1
    catalog.refresh()
    catalog.states()
    assert len(listings(control_plane)) == 2


def test_a_model_not_offered_in_the_chosen_region_is_unavailable(
    control_plane: BedrockEndpoint,
) -> None:
    state = ModelCatalog(region="us-west-2", clock=lambda: BEFORE_EOL).state(NOVA)
    assert (state.status, state.region, state.usable) == ("unavailable", "us-west-2", False)
    # Past its end of life, a model that is not listed is called what it is.
    assert ModelCatalog(region="us-west-2").state(NOVA).status == "end-of-life"


def test_lifecycle_changes_are_seen(control_plane: BedrockEndpoint) -> None:
    control_plane.foundation_models["us-west-2"] = [
        foundation_model(CORE, "LEGACY"),
        foundation_model("stability.sd3-5-large-v1:0"),
    ]
    states = ModelCatalog(region="us-west-2").states()
    assert states[CORE].status == "legacy"
    assert states["stability.stable-image-ultra-v1:1"].status == "unavailable"


def test_access_denied_falls_back_quietly(
    control_plane: BedrockEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    control_plane.foundation_models_reply = Reply.error(
        "AccessDeniedException", MESSAGES["list_denied"]
    )
    catalog = ModelCatalog()
    with caplog.at_level(logging.INFO, logger="gallery_kit.bedrock.lifecycle"):
        states = catalog.states()
        catalog.states()  # the failure is remembered too: not asked again
    assert {m: s.status for m, s in states.items() if m in MODELS} == {
        m: spec.status_on(catalog.today()) for m, spec in MODELS.items()
    }
    assert {s.source for s in states.values()} == {"built-in"}
    assert len(listings(control_plane)) == 2  # one per region, once
    assert [r.levelname for r in caplog.records] == ["INFO", "INFO"]
    assert "AccessDenied" in caplog.records[0].getMessage()


def test_an_unreachable_endpoint_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK", f"http://127.0.0.1:{port}")
    state = ModelCatalog().state(CORE)
    assert (state.status, state.source) == ("active", "built-in")


def test_offline_never_asks(control_plane: BedrockEndpoint) -> None:
    catalog = ModelCatalog.from_settings(load_settings())
    assert catalog.offline
    assert catalog.state(NOVA).source == "built-in"
    assert listings(control_plane) == []


class _Client:
    """A hand-written control-plane client: counts calls, answers a fixed list."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def list_foundation_models(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"modelSummaries": [foundation_model(CORE, "ACTIVE")]}


def test_an_injected_client_is_used_for_every_region() -> None:
    client = _Client()
    catalog = ModelCatalog(client=client, clock=lambda: BEFORE_EOL)  # type: ignore[arg-type]  # duck-typed test client
    states = catalog.states()
    assert client.calls == [{"byOutputModality": "IMAGE"}] * 2
    assert states[CORE].status == "active"
    assert states[NOVA].status == "unavailable"
