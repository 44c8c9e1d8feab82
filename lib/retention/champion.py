"""Champion / challenger: whether this month's retrained churn model (the challenger) takes
over from the model in use (the champion), decided on the same labelled month.

The challenger's out-of-time AUC (its recipe trained on r − 1, tested on r) is set against
the champion's AUC on the same month r (out of time for it too: it was trained earlier).
The challenger is promoted unless that AUC is more than `max_auc_drop` below the
champion's, or its score PSI is `max_psi` or more: the PSI of its scores of the month's
population against its scores of the customers it was trained on (the model's population
stability: the customers it would score are no longer like those it learnt from).
Otherwise the champion scores the month, and the reason is recorded."""
from __future__ import annotations

import math

FIRST, PROMOTED, KEPT = "FIRST", "PROMOTED", "KEPT"


def decide(champion_auc: float | None, challenger_auc: float, score_psi: float, max_auc_drop: float,
           max_psi: float) -> tuple[str, str]:
    """(decision, why) for the challenger; champion_auc None: there is no champion yet."""
    if champion_auc is None:
        return FIRST, "no champion before this month: the challenger is the champion"
    problems = []
    if math.isnan(challenger_auc):
        problems.append("its out-of-time AUC cannot be measured (one class only)")
    elif champion_auc - challenger_auc > max_auc_drop:
        problems.append(f"its out-of-time AUC {challenger_auc:.3f} is {champion_auc - challenger_auc:.3f} below the "
                        f"champion's {champion_auc:.3f} (retention.max_auc_drop {max_auc_drop})")
    if score_psi >= max_psi:
        problems.append(f"its score PSI {score_psi:.3f} (this month's customers against those it was trained on) is "
                        f"not below retention.max_psi {max_psi}")
    if problems:
        return KEPT, "champion kept: " + "; ".join(problems)
    return PROMOTED, (f"challenger promoted: out-of-time AUC {challenger_auc:.3f} against the champion's "
                      f"{champion_auc:.3f}, score PSI {score_psi:.3f}")
