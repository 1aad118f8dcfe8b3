"""Charts of the switching statistics as SVG, drawn on the server with matplotlib (no script, no CDN).

Text stays text (`svg.fonttype: none`) with the page's own font list, so the browser draws the Japanese
labels with the fonts it uses for the page. matplotlib is imported on the first chart only: no other
page pays for it. Rendering is serialised by a lock: matplotlib's global state (settings, font cache)
is not thread-safe, and a chart is a rare request.
"""

from __future__ import annotations

import io
import threading
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any

from shadan.domain.switching import ErrorCode
from shadan.services.switching_stats import PeriodStatistics, SwitchingStatistics

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SVG_MEDIA_TYPE = "image/svg+xml"
# The stylesheet's font list (static/shadan.css, --font): the same faces draw the chart's text.
FONTS = ["Noto Sans CJK JP", "Noto Sans JP", "Hiragino Kaku Gothic ProN", "Hiragino Sans", "Yu Gothic UI",
         "Yu Gothic", "Meiryo", "DejaVu Sans"]  # fmt: skip
# One colour per code, always in code order (Okabe–Ito: told apart with common colour-vision deficiencies).
CODE_COLOURS: dict[ErrorCode, str] = {
    ErrorCode.SUPPLY_POINT: "#0072B2",
    ErrorCode.CONTRACT_NO: "#E69F00",
    ErrorCode.PENDING: "#56B4E9",
    ErrorCode.NAME: "#D55E00",
    ErrorCode.ADDRESS: "#009E73",
    ErrorCode.CANCEL_DATE: "#CC79A7",
    ErrorCode.NOT_TARGET: "#F0E442",
    ErrorCode.OTHER: "#7F7F7F",
}
STRICT_COLOUR, NORMALISED_COLOUR = "#B9C3CF", "#123B63"
MAX_TICK_LABELS = 16
_LOCK = threading.Lock()
# No date (the same statistics give the same bytes) and no RDF block naming the tool: only the drawing.
_NO_METADATA: dict[str, Any] = {"Date": None, "Creator": None, "Format": None, "Type": None}


def statistics_svg(stats: SwitchingStatistics) -> bytes:
    """Left: each period's rejections by primary code, in percent. Right: the whole range's 04, 05 and
    rejections under --strict and with normalisation."""
    figure_class = _matplotlib()
    with _LOCK, warnings.catch_warnings():
        # Only the browser draws the text; where no Japanese font is installed on the server,
        # matplotlib measures with a fallback face and says so for every glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure = figure_class(figsize=(11, 4.6), layout="constrained")
        shares, comparison = figure.subplots(1, 2, width_ratios=(3, 1.3))
        _draw_shares(shares, stats.periods)
        _draw_comparison(comparison, stats.total)
        out = io.BytesIO()
        figure.savefig(out, format="svg", metadata=_NO_METADATA)
    return out.getvalue()


def _draw_shares(axes: Axes, periods: tuple[PeriodStatistics, ...]) -> None:
    positions = list(range(len(periods)))
    bottoms = [0.0] * len(periods)
    for code in ErrorCode:
        heights = [_share(p, code) for p in periods]
        axes.bar(
            positions, heights, bottom=bottoms, color=CODE_COLOURS[code], label=f"{code.value} {code.label}"
        )
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    step = max(1, -(-len(periods) // MAX_TICK_LABELS))  # every period's name, or every n-th when crowded
    axes.set_xticks(positions[::step], [p.name for p in periods][::step], rotation=45, ha="right")
    axes.set_ylim(0, 100)
    axes.set_ylabel("エラー原因の比率（%）")
    axes.set_title("エラーコード別の比率（主エラー）")
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)


def _draw_comparison(axes: Axes, total: PeriodStatistics) -> None:
    from matplotlib.ticker import MaxNLocator  # loaded already by _matplotlib()

    strict = total.strict
    labels = [ErrorCode.NAME.short_label, ErrorCode.ADDRESS.short_label, "エラー合計"]
    before = [strict.name_rejections, strict.address_rejections, strict.rejected]
    after = [total.listed_name, total.listed_address, total.rejected]
    positions = range(len(labels))
    height = 0.38
    bars = (
        axes.barh(
            [y - height / 2 for y in positions], before, height, color=STRICT_COLOUR, label="--strict（従来）"
        ),
        axes.barh(
            [y + height / 2 for y in positions], after, height, color=NORMALISED_COLOUR, label="正規化"
        ),
    )
    for container in bars:
        axes.bar_label(container, fmt="{:,.0f}", padding=2, fontsize="small")
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.set_xlabel("件数")
    axes.set_xlim(0, max(*before, *after, 1) * 1.25)  # room for the labels; an empty range still has an axis
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 of an application
    axes.set_title("正規化の効果（全期間）")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, fontsize="small", frameon=False)


def _share(period: PeriodStatistics, code: ErrorCode) -> float:
    count = next(c for c in period.codes if c.code is code)
    return 100 * count.share if count.share is not None else 0.0


@cache
def _matplotlib() -> Any:
    """matplotlib, configured once, and its Figure class (the object API: no pyplot, no global figure)."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "shadan",  # stable element ids: the same statistics give the same bytes
            "font.family": "sans-serif",
            "font.sans-serif": FONTS,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    from matplotlib.figure import Figure

    return Figure
