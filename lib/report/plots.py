"""The report's charts: matplotlib figures of the bounded report tables (pandas), as PNG
bytes. Rendering is deterministic (no timestamp in the file), so a re-run of the month
writes the same bytes."""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")   # no display on a cluster's driver
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import pandas as pd  # noqa: E402

UP, DOWN, BLUE, GREY = "#2e7d32", "#c62828", "#1565c0", "#9e9e9e"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _label_bars(ax, bars, texts: list[str]) -> None:
    ax.margins(y=0.12)      # room above the tallest bar for its label
    for bar, text in zip(bars, texts):
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                    fontsize=8, xytext=(0, 2), textcoords="offset points")


def tiers_chart(tiers: pd.DataFrame) -> bytes:
    """Wealth customers per tier, and every tier's share of the month's AUM."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    wealth = tiers[tiers.tier != "NONE"]
    bars = left.bar(wealth.tier, wealth.cust_cnt, color=BLUE)
    _label_bars(left, bars, [f"{n:,}" for n in wealth.cust_cnt])
    left.set(title="Wealth customers per tier", ylabel="customers")
    bars = right.bar(tiers.tier, tiers.aum_share * 100, color=[GREY if t == "NONE" else BLUE for t in tiers.tier])
    _label_bars(right, bars, [f"{s:.1%}" for s in tiers.aum_share])
    right.set(title="Share of the month's AUM", ylabel="% of AUM")
    return _png(fig)


def migration_chart(history: pd.DataFrame) -> bytes:
    """Figure 1: upgrade and downgrade ratios of the stock wealth customers per
    comparison (month over month, then year over year)."""
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(history) + 2), 3.8))
    labels = [f"{r.stat_month}\nvs {r.from_month}" if r.kind == "YEAR" else r.stat_month for r in history.itertuples()]
    x = range(len(history))
    width = 0.4
    down = ax.bar([i - width / 2 for i in x], history.downgrade_ratio * 100, width, color=DOWN, label="downgraded")
    up = ax.bar([i + width / 2 for i in x], history.upgrade_ratio * 100, width, color=UP, label="upgraded")
    _label_bars(ax, down, [f"{v:.1%}" for v in history.downgrade_ratio])
    _label_bars(ax, up, [f"{v:.1%}" for v in history.upgrade_ratio])
    ax.set_xticks(list(x), labels, fontsize=8, rotation=45 if len(history) > 6 else 0)
    ax.set(title="Stock wealth customers upgraded and downgraded (Figure 1)", ylabel="% of last month's / year's "
           "wealth customers")
    ax.legend(fontsize=8)
    return _png(fig)


def category_chart(rates: pd.DataFrame, what: str) -> bytes:
    """Figure 5: churn rate per category of a predictor."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    bars = ax.bar(rates.category, rates.churn_rate * 100, color=DOWN)
    _label_bars(ax, bars, [f"{r:.1%} of {n:,}" for r, n in zip(rates.churn_rate, rates.cust_cnt)])
    ax.set(title=f"Churn rate by {what} (Figure 5)", ylabel="% churned")
    return _png(fig)


def roc_ks_chart(roc: pd.DataFrame, metrics: pd.DataFrame) -> bytes:
    """ROC of each evaluation set with its AUC, and the KS curves (TPR and FPR against the
    cut-off) of the hold-out with the largest gap marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    auc = dict(zip(metrics.eval_set, metrics.auc))
    for (eval_set, points), colour in zip(roc.groupby("eval_set", sort=True), (BLUE, DOWN)):
        points = points.sort_values(["fpr", "tpr"])
        left.plot(points.fpr, points.tpr, color=colour, label=f"{eval_set} (AUC {auc.get(eval_set, float('nan')):.3f})")
    left.plot([0, 1], [0, 1], color=GREY, linestyle=":", label="chance")
    left.set(title="ROC", xlabel="false positive rate", ylabel="true positive rate")
    left.legend(fontsize=8, loc="lower right")
    held = roc[roc.eval_set == "HOLDOUT"].sort_values("threshold")
    right.plot(held.threshold, held.tpr, color=UP, label="churners flagged (TPR)")
    right.plot(held.threshold, held.fpr, color=DOWN, label="others flagged (FPR)")
    if len(held):
        gap = (held.tpr - held.fpr).idxmax()
        at = held.loc[gap]
        right.vlines(at.threshold, at.fpr, at.tpr, color="black", linestyle="--",
                     label=f"KS {at.tpr - at.fpr:.3f} at {at.threshold:.2f}")
    right.set(title="KS (hold-out)", xlabel="churn probability cut-off", ylabel="share flagged")
    right.legend(fontsize=8)
    return _png(fig)


KIND_COLOURS = {"OWN_ACCOUNT": UP, "EXTERNAL": BLUE, "POSTAL": "#ef6c00"}


def _widths(weights: pd.Series) -> list[float]:
    """Line widths from 0.8 to 6 by weight (z-scores can be negative: scaled by their range)."""
    low, high = float(weights.min()), float(weights.max())
    return [3.0 if high == low else 0.8 + 5.2 * (float(w) - low) / (high - low) for w in weights]


def ego_chart(centre: str, links: pd.DataFrame) -> bytes:
    """Figure 3: a wealth customer in the centre and its counterparties on a circle,
    strongest first from the top, clockwise; line width by weight, colour by kind."""
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    angles = [math.pi / 2 - 2 * math.pi * i / max(len(links), 1) for i in range(len(links))]
    points = [(math.cos(a), math.sin(a)) for a in angles]
    for (x, y), width, kind in zip(points, _widths(links.weight), links.kind):
        ax.plot([0, x], [0, y], color=KIND_COLOURS.get(kind, GREY), linewidth=width, alpha=0.7, zorder=1)
    for (x, y), label, kind in zip(points, links.label, links.kind):
        ax.scatter([x], [y], s=160, color=KIND_COLOURS.get(kind, GREY), zorder=2)
        ax.annotate(label, (x, y), xytext=(12 * x, 12 * y), textcoords="offset points", fontsize=8,
                    ha="left" if x > 0.01 else ("right" if x < -0.01 else "center"), va="center")
    ax.scatter([0], [0], s=420, color=DOWN, zorder=3)
    ax.annotate(centre, (0, 0), xytext=(0, -18), textcoords="offset points", ha="center", fontsize=9,
                fontweight="bold")
    for kind, colour in KIND_COLOURS.items():
        ax.plot([], [], color=colour, linewidth=3, label=kind.lower().replace("_", " "))
    ax.legend(fontsize=8, loc="lower left")
    ax.set(title="Counterparty ego graph (Figure 3)", xlim=(-1.8, 1.8), ylim=(-1.4, 1.4))
    ax.set_aspect("equal")
    ax.axis("off")
    return _png(fig)


def bipartite_chart(links: pd.DataFrame) -> bytes:
    """Figure 4: wealth customers on the left, the internal prospects they transfer with
    on the right (in list order), line width by weight."""
    prospects = list(dict.fromkeys(links.sort_values(["rank", "prospect"]).prospect))
    # each wealth customer beside the first prospect it links to: fewer crossing lines
    wealth = list(dict.fromkeys(links.sort_values(["rank", "wealth"]).wealth))
    fig, ax = plt.subplots(figsize=(8, max(3.5, 0.45 * max(len(wealth), len(prospects)) + 1.5)))
    y_of = lambda names: {n: 1 - i / max(len(names) - 1, 1) for i, n in enumerate(names)}  # noqa: E731
    left, right = y_of(wealth), y_of(prospects)
    for (w, p), width in zip(zip(links.wealth, links.prospect), _widths(links.weight)):
        ax.plot([0, 1], [left[w], right[p]], color=BLUE, linewidth=width, alpha=0.6, zorder=1)
    ax.scatter([0] * len(left), list(left.values()), s=120, color=DOWN, zorder=2, label="wealth customer")
    ax.scatter([1] * len(right), list(right.values()), s=120, color="#ef6c00", zorder=2, label="internal prospect")
    for name, y in left.items():
        ax.annotate(name, (0, y), xytext=(-10, 0), textcoords="offset points", ha="right", va="center", fontsize=8)
    for name, y in right.items():
        ax.annotate(name, (1, y), xytext=(10, 0), textcoords="offset points", ha="left", va="center", fontsize=8)
    ax.set(title="Wealth customers and internal prospects (Figure 4)", xlim=(-0.6, 1.6), ylim=(-0.15, 1.15))
    ax.legend(fontsize=8, loc="lower center", ncol=2)
    ax.axis("off")
    return _png(fig)
