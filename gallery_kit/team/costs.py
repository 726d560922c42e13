"""What a request costs, from the price table in the model cards (the estimate the panel shows
before the click). Pure. Offline, and where the table has no price, it is 0."""

from __future__ import annotations

from dataclasses import dataclass

from gallery_kit.generation import ModelSpec

#: Ledger and budget sums are kept in millionths of a dollar (no float drift over a month).
MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Estimate:
    """The price of one request: ``count`` images at ``per_image`` dollars each."""

    per_image: float
    count: int
    #: The price is our guess (Nova 2 Omni is priced per output token).
    is_estimate: bool = False

    @property
    def per_image_micros(self) -> int:
        return round(self.per_image * MICROS)

    @property
    def micros(self) -> int:
        return self.per_image_micros * self.count

    @property
    def total(self) -> float:
        return self.micros / MICROS

    def of(self, count: int) -> Estimate:
        """The same price for another number of images (what the model really returned)."""
        return Estimate(self.per_image, count, self.is_estimate)


FREE = Estimate(0.0, 0)


def estimate(
    spec: ModelSpec, width: int, height: int, quality: str | None, count: int, *, offline: bool
) -> Estimate:
    """The price table's estimate for ``count`` images of ``width`` by ``height``."""
    if offline:
        return Estimate(0.0, count)
    price = spec.price_per_image(width, height, quality or "standard")
    return Estimate(price or 0.0, count, spec.price_is_estimate and price is not None)


def dollars(micros: int) -> str:
    """``$1.23`` (cents; ``$0.0040`` below a cent, so a small cost never shows as nothing)."""
    value = micros / MICROS
    return f"${value:.4f}" if 0 < value < 0.01 else f"${value:.2f}"
