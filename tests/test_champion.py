"""The champion / challenger decision on hand-built cases."""
from __future__ import annotations

from lib.retention.champion import FIRST, KEPT, PROMOTED, decide


def test_no_champion_yet():
    assert decide(None, 0.7, 0.01, 0.02, 0.25) == (FIRST, "no champion before this month: the challenger is the "
                                                          "champion")


def test_champion_kept_when_the_challenger_is_worse_by_more_than_the_drop():
    assert decide(0.80, 0.77, 0.05, 0.02, 0.25) == (
        KEPT, "champion kept: its out-of-time AUC 0.770 is 0.030 below the champion's 0.800 "
              "(retention.max_auc_drop 0.02)")


def test_challenger_promoted_within_the_drop_and_the_psi():
    assert decide(0.80, 0.781, 0.1, 0.02, 0.25) == (
        PROMOTED, "challenger promoted: out-of-time AUC 0.781 against the champion's 0.800, score PSI 0.100")
    assert decide(0.80, 0.85, 0.249, 0.02, 0.25)[0] == PROMOTED


def test_champion_kept_when_the_scores_shift_or_the_auc_cannot_be_measured():
    assert decide(0.80, 0.90, 0.25, 0.02, 0.25) == (
        KEPT, "champion kept: its score PSI 0.250 (this month's customers against those it was trained on) is not "
              "below retention.max_psi 0.25")
    assert decide(0.80, float("nan"), 0.4, 0.02, 0.25) == (
        KEPT, "champion kept: its out-of-time AUC cannot be measured (one class only); its score PSI 0.400 (this "
              "month's customers against those it was trained on) is not below retention.max_psi 0.25")
