"""The dashboard's team views: the Spend view (``gk-spend``: totals for today, this week and
this month, a 30-day chart split by user or model, the top users), the duplicate notice's
buttons, and the "made by" choices of the search bar. Read from the spend ledger (one LIST per
day, see :mod:`gallery_kit.team.ledger`); everything shown is escaped."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Literal

import ipywidgets as w

from gallery_kit.keeping import GenerationResult
from gallery_kit.team.dedupe import Duplicate
from gallery_kit.team.spend import Spend

if TYPE_CHECKING:
    from gallery_kit.ui.app import GalleryApp

#: Bar colours for the chart's series (users or models), then grey for the rest.
PALETTE = ("#2a6ad3", "#e3801c", "#2f9e44", "#c2255c", "#7048e8", "#0c8599")
SERIES = len(PALETTE)


def money(usd: float) -> str:
    return f"${usd:,.2f}"


def chart_svg(by_day: dict[str, dict[str, float]], width: int = 640, height: int = 180) -> str:
    """Stacked bars, one per day (oldest left), a series per user or model (the biggest first;
    past :data:`SERIES` they share one grey bar), with a legend. Labels are escaped."""
    totals: dict[str, float] = {}
    for spent in by_day.values():
        for name, usd in spent.items():
            totals[name] = totals.get(name, 0.0) + usd
    names = sorted(totals, key=lambda n: -totals[n])
    shown, rest = names[:SERIES], set(names[SERIES:])
    colour = {n: PALETTE[i] for i, n in enumerate(shown)}
    top = max((sum(d.values()) for d in by_day.values()), default=0.0) or 1.0
    days = list(by_day)
    left, bottom, plot_h = 44, 22, height - 40
    slot = (width - left - 8) / max(len(days), 1)
    parts = [
        f'<svg class="gk-spend-svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Spend per day, last {len(days)} days">',
        f'<text x="{left - 6}" y="14" text-anchor="end">{html.escape(money(top))}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 8}" y2="{height - bottom}" '
        'class="gk-spend-axis"/>',
    ]
    for i, day in enumerate(days):
        x, y = left + i * slot + 1, float(height - bottom)
        stack = [(n, by_day[day].get(n, 0.0)) for n in shown]
        stack.append(("others", sum(v for n, v in by_day[day].items() if n in rest)))
        for name, usd in stack:
            if usd <= 0:
                continue
            h = usd / top * plot_h
            y -= h
            fill = colour.get(name, "#999")
            label = html.escape(f"{day} · {name}: {money(usd)}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(slot - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{fill}"><title>{label}</title></rect>'
            )
        if i % 7 == 0 or (i == len(days) - 1 and i % 7 > 3):
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                f"{html.escape(day[5:])}</text>"
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="gk-spend-key"><i style="background:{colour[n]}"></i>{html.escape(n)} '
        f"{html.escape(money(totals[n]))}</span>"
        for n in shown
    )
    if rest:
        others = sum(totals[n] for n in rest)
        legend += (
            f'<span class="gk-spend-key"><i style="background:#999"></i>{len(rest)} more '
            f"{html.escape(money(others))}</span>"
        )
    return "".join(parts) + f'<div class="gk-spend-legend">{legend}</div>'


def summary_html(spend: Spend) -> str:
    cells = [
        ("Today", spend.today_total),
        ("This week", spend.week_total),
        ("This month", spend.month_total),
    ]
    totals = "".join(
        f'<div class="gk-spend-total"><span>{label}</span><b>{money(row.cost_usd)}</b>'
        f"<small>{row.images:,} image{'' if row.images == 1 else 's'}</small></div>"
        for label, row in cells
    )
    users = spend.top_users()
    top = "".join(
        f"<li>{html.escape(row.key or 'someone')} · {money(row.cost_usd)} · {row.images:,}</li>"
        for row in users
    )
    return f'<div class="gk-spend-totals">{totals}</div>' + (
        f'<div class="gk-spend-top">Top users<ol>{top}</ol></div>' if users else ""
    )


class TeamViews:
    def __init__(self, app: GalleryApp) -> None:
        self.app = app
        self.gallery = app.gallery
        self._duplicate: Duplicate | None = None
        self._spend: Spend | None = None
        self.toggle = w.ToggleButton(description="Spend", icon="line-chart", value=False)
        self.toggle.add_class("gk-spend-toggle")
        self.split = w.ToggleButtons(options=[("by user", "user"), ("by model", "model")])
        self.split.add_class("gk-spend-split")
        self.summary = w.HTML()
        self.chart = w.HTML()
        self.chart.add_class("gk-spend-chart")
        title = w.HTML('<div class="gk-spend-title">Spend, last 30 days</div>')
        self.box = w.VBox(
            [title, self.summary, self.split, self.chart], layout=w.Layout(display="none")
        )
        self.box.add_class("gk-spend")
        self.toggle.observe(lambda _c: self._opened(), "value")
        self.split.observe(lambda _c: self._draw(), "value")
        messages = app.messages
        messages.show_them.on_click(lambda _b: app.run(self.show_duplicate_images))
        messages.generate_again.on_click(lambda _b: app.actions.on_generate(again=True))

    # --- the duplicate notice ---------------------------------------------------------------

    def on_duplicate(self, result: GenerationResult) -> None:
        self._duplicate = result.duplicate
        if result.duplicate is not None:
            self.app.messages.show_duplicate(result.duplicate.made)

    def show_duplicate_images(self) -> None:
        """The images made before: the first in the lightbox (←/→ walk the grid)."""
        if self._duplicate is not None and self._duplicate.records:
            self.app.open_image(self._duplicate.records[0].id)

    # --- the Spend view ---------------------------------------------------------------------

    def _opened(self) -> None:
        self.box.layout.display = "flex" if self.toggle.value else "none"
        if self.toggle.value:
            self.chart.value = '<span class="gk-spinner"></span>Reading the ledger…'
            self.app.run(self.refresh)

    def refresh(self) -> None:
        """Read the last 30 days again (after a generation, when the view is open)."""
        self._spend = self.gallery.spend_summary()
        users = sorted({e.user for e in self._spend.entries if e.user})
        self.app.search.set_users(users)
        self._draw()

    def after_generation(self) -> None:
        if self.toggle.value:
            self.app.run(self.refresh)

    def _draw(self) -> None:
        spend = self._spend
        if spend is None:
            return
        split: Literal["user", "model"] = "model" if self.split.value == "model" else "user"
        self.summary.value = summary_html(spend)
        by_day = spend.by_day(split)
        if any(usd for day in by_day.values() for usd in day.values()):
            self.chart.value = chart_svg(by_day)
        else:
            made = sum(e.images for e in spend.entries)
            self.chart.value = (
                f'<div class="gk-spend-none">Nothing spent in the last {spend.days} days'
                f"{f' ({made:,} images made offline, at no cost)' if made else ''}.</div>"
            )
