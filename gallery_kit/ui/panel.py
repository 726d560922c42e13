"""The generation panel: prompt, settings, cost estimate and the Generate button."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from gallery_kit.bedrock.families import MODELS, GenerationRequest, ModelSpec, get_model

#: (label, width, height); the first is the default. All valid for Nova Canvas.
SIZE_PRESETS: tuple[tuple[str, int, int], ...] = (
    ("1:1 square · 1024×1024", 1024, 1024),
    ("1:1 large · 2032×2032", 2032, 2032),  # Nova needs fewer than 4,194,304 pixels
    ("16:9 landscape · 1280×720", 1280, 720),
    ("9:16 portrait · 720×1280", 720, 1280),
    ("3:2 landscape · 1152×768", 1152, 768),
    ("2:3 portrait · 768×1152", 768, 1152),
    ("4:3 landscape · 1152×864", 1152, 864),
    ("3:4 portrait · 864×1152", 864, 1152),
    ("21:9 wide · 1680×720", 1680, 720),
    ("4:1 banner · 2048×512", 2048, 512),
)
CUSTOM = "Custom…"
PROMPT_LIMIT = 1024


_STATE_TEXT = {
    "active": "",
    "legacy": " · Legacy",
    "preview": " · preview",
    "end-of-life": " · end of life (unavailable)",
    "unavailable": " · not offered here (unavailable)",
}


def _label(spec: ModelSpec, status: str, region: str | None = None) -> str:
    return f"{spec.name} ({region or spec.default_region}){_STATE_TEXT.get(status, '')}"


def estimate_cost(spec: ModelSpec, width: int, height: int, quality: str, count: int) -> str:
    price = spec.price_per_image(width, height, quality)
    if price is None:
        return f"{spec.name}: no price for {width}×{height}"
    total = price * count
    guess = ", an estimate: priced per output token" if spec.price_is_estimate else ""
    return f"≈ ${total:.2f} per request ({count} × ${price:.2f}, {spec.name}{guess})"


class GenerationPanel:
    """The widgets of the panel; ``box`` is what the app shows."""

    def __init__(
        self, *, model_id: str, show_cost: bool, statuses: dict[str, str] | None = None
    ) -> None:
        """``statuses``: each model's lifecycle state by the built-in table (until Bedrock's
        listing arrives through :meth:`set_model_states`)."""
        self.show_cost = show_cost
        self.model_states: dict[str, tuple[str, str]] = {}
        statuses = statuses or {}

        # One Layout each: a shared one would show or hide every widget that uses it at once.
        def wide() -> w.Layout:
            return w.Layout(width="100%")

        self.prompt = w.Textarea(
            placeholder="Describe the image you want…", layout=w.Layout(width="100%", height="80px")
        )
        self.prompt.add_class("gk-prompt")
        self.char_count = w.HTML()
        self.char_count.add_class("gk-charcount")
        self.negative = w.Textarea(
            placeholder="What to leave out (optional)", layout=w.Layout(width="100%", height="48px")
        )
        self.negative.add_class("gk-negative-prompt")
        model_ids = list(MODELS)
        if model_id not in MODELS:
            model_ids.insert(0, model_id)
        self.model = w.Dropdown(
            options=[(_label(get_model(m), statuses.get(m, "active")), m) for m in model_ids],
            value=model_id,
            description="Model",
            layout=wide(),
        )
        self.model.add_class("gk-model")
        self.style = w.Dropdown(description="Style", layout=wide())
        self.style.add_class("gk-style")
        self.size = w.Dropdown(
            options=[p[0] for p in SIZE_PRESETS] + [CUSTOM],
            value=SIZE_PRESETS[0][0],
            description="Size",
            layout=wide(),
        )
        self.size.add_class("gk-size")
        self.width = w.BoundedIntText(
            1024, min=1, max=100_000, step=16, description="Width", layout=w.Layout(width="48%")
        )
        self.height = w.BoundedIntText(
            1024, min=1, max=100_000, step=16, description="Height", layout=w.Layout(width="48%")
        )
        self.width.add_class("gk-width")
        self.height.add_class("gk-height")
        self.custom_size = w.HBox([self.width, self.height], layout=w.Layout(display="none"))
        self.quality = w.Dropdown(
            options=["standard", "premium"], description="Quality", layout=wide()
        )
        self.quality.add_class("gk-quality")
        self.count = w.BoundedIntText(1, min=1, max=5, description="Images", layout=wide())
        self.count.add_class("gk-count")
        self.random_seed = w.Checkbox(True, description="Random seed", indent=False)
        self.random_seed.add_class("gk-random-seed")
        self.seed = w.BoundedIntText(
            0, min=0, max=4_294_967_294, description="Seed", disabled=True, layout=wide()
        )
        self.seed.add_class("gk-seed")
        self.cfg = w.BoundedFloatText(6.5, min=0, max=100, step=0.1, description="CFG scale")
        self.cfg.add_class("gk-cfg")
        self.advanced = advanced = w.Accordion(children=[w.VBox([self.cfg])], titles=("Advanced",))
        advanced.selected_index = None
        self.cost = w.HTML()
        self.cost.add_class("gk-cost")
        self.generate = w.Button(
            description="Generate",
            button_style="primary",
            icon="magic",
            layout=w.Layout(width="100%", height="38px"),
        )
        self.generate.add_class("gk-generate")
        # New images join this board (the app fills in the boards as they are read).
        self.into = w.Dropdown(
            options=[("No board", "")], value="", description="Into", layout=wide()
        )
        self.into.add_class("gk-generate-into")

        self.box = w.VBox(
            [
                self.prompt,
                self.char_count,
                self.negative,
                self.model,
                self.style,
                self.size,
                self.custom_size,
                self.quality,
                self.count,
                self.random_seed,
                self.seed,
                advanced,
                self.cost,
                self.into,
                self.generate,
            ],
            layout=w.Layout(width="340px", min_width="300px", padding="0 12px 0 0"),
        )
        self.box.add_class("gk-panel")

        self.prompt.observe(self._update_count, "value")
        self.random_seed.observe(self._update_seed, "value")
        self.size.observe(self._update_size, "value")
        self.model.observe(self._update_model, "value")
        for widget in (self.size, self.width, self.height, self.quality, self.count, self.model):
            widget.observe(self._update_cost, "value")
        self._update_model()
        self._update_count()

    def set_boards(self, boards: list[tuple[str, str]]) -> None:
        """The "Into" choices: (name, board id); a board deleted meanwhile falls back to none."""
        options = [("No board", ""), *boards]
        if list(self.into.options) != options:
            keep = self.into.value if any(v == self.into.value for _n, v in options) else ""
            self.into.options = options
            self.into.value = keep

    def set_model_states(self, states: dict[str, tuple[str, str]]) -> None:
        """Mark each model's lifecycle state ({model id: (status, region)}) in the picker.

        ipywidgets cannot grey out one option, so unusable models say so in their label and
        the app refuses to generate with them (naming a model that works).
        """
        self.model_states = states
        options = []
        for label_text, model_id in self.model.options:
            if model_id in states:
                status, region = states[model_id]
                label_text = _label(get_model(model_id), status, region)
            options.append((label_text, model_id))
        value = self.model.value
        self.model.options = options
        self.model.value = value

    def select_model(self, model_id: str) -> None:
        """Choose ``model_id`` in the picker (added to it when it is not a listed model)."""
        if model_id not in [m for _label_text, m in self.model.options]:
            spec = get_model(model_id)
            self.model.options = [*self.model.options, (_label(spec, "active"), model_id)]
        self.model.value = model_id

    @property
    def spec(self) -> ModelSpec:
        return get_model(self.model.value)

    def dimensions(self) -> tuple[int, int]:
        for label, width, height in SIZE_PRESETS:
            if label == self.size.value:
                return width, height
        return int(self.width.value), int(self.height.value)

    def request(self) -> GenerationRequest:
        """The request the panel describes (validated later, by the gallery)."""
        width, height = self.dimensions()
        spec = self.spec
        return GenerationRequest(
            prompt=self.prompt.value,
            negative_prompt=(self.negative.value or None) if spec.takes_negative else None,
            style=self.style.value or None,
            width=width,
            height=height,
            quality=self.quality.value,
            count=int(self.count.value),
            seed=None if self.random_seed.value or not spec.takes_seed else int(self.seed.value),
            cfg_scale=float(self.cfg.value) if spec.cfg_range else None,
            model_id=spec.model_id,
        )

    def fill(self, settings: dict[str, Any]) -> None:
        """Put a stored image's settings back into the panel ("Use these settings")."""
        model_id = settings.get("model_id")
        if model_id in MODELS:
            self.model.value = model_id
        self.prompt.value = settings.get("prompt") or ""
        self.negative.value = settings.get("negative_prompt") or ""
        style = settings.get("style") or ""
        self.style.value = style if style in self.spec.styles else ""
        width, height = int(settings.get("width") or 1024), int(settings.get("height") or 1024)
        preset = next((p[0] for p in SIZE_PRESETS if p[1:] == (width, height)), None)
        if preset is None:
            self.width.value, self.height.value = width, height
            self.size.value = CUSTOM
        else:
            self.size.value = preset
        if settings.get("quality") in self.quality.options:
            self.quality.value = settings["quality"]
        self.count.value = max(1, min(int(settings.get("count") or 1), self.spec.max_count))
        if settings.get("cfg_scale") is not None:
            self.cfg.value = float(settings["cfg_scale"])
        seed = settings.get("seed")
        if seed is not None:
            self.seed.value = int(seed)
            self.random_seed.value = False

    def set_busy(self, busy: bool) -> None:
        self.generate.disabled = busy
        self.generate.description = "Generating…" if busy else "Generate"
        self.generate.icon = "spinner" if busy else "magic"

    # --- observers ----------------------------------------------------------------------

    def _update_count(self, _change: object = None) -> None:
        n = len(self.prompt.value.strip())
        limit = self.spec.max_prompt
        over = " gk-over" if n > limit else ""
        self.char_count.value = f'<span class="gk-charcount{over}">{n} / {limit}</span>'

    def _update_seed(self, _change: object = None) -> None:
        self.seed.disabled = bool(self.random_seed.value)

    def _update_size(self, _change: object = None) -> None:
        self.custom_size.layout.display = "flex" if self.size.value == CUSTOM else "none"

    def _update_model(self, _change: object = None) -> None:
        spec = self.spec
        current = self.style.value if self.style.options else ""
        self.style.options = [("None", "")] + [
            (s.replace("_", " ").title(), s) for s in spec.styles
        ]
        self.style.value = current if current in spec.styles else ""
        self.style.layout.display = "flex" if spec.styles else "none"
        self.quality.options = list(spec.qualities)
        self.quality.layout.display = "flex" if len(spec.qualities) > 1 else "none"
        # A model without these parameters does not show them (Nova 2 Omni: no seed, no
        # negative prompt; the size becomes an aspect ratio asked for in words).
        self.negative.layout.display = "flex" if spec.takes_negative else "none"
        self.random_seed.layout.display = "flex" if spec.takes_seed else "none"
        self.seed.layout.display = "flex" if spec.takes_seed else "none"
        self.advanced.layout.display = "flex" if spec.cfg_range else "none"
        self.size.description = "Size" if spec.takes_size else "Aspect"
        self.count.max = spec.max_count
        if spec.cfg_range:
            self.cfg.value = spec.cfg_default or self.cfg.value
        self.cfg.disabled = spec.cfg_range is None
        self._update_count()
        self._update_cost()

    def _update_cost(self, _change: object = None) -> None:
        if not self.show_cost:
            self.cost.value = ""
            return
        width, height = self.dimensions()
        self.cost.value = estimate_cost(
            self.spec, width, height, self.quality.value or "standard", int(self.count.value)
        )
