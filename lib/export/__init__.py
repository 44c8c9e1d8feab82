"""Per-branch marketing lists for a month: files a branch can work, capped at its capacity."""
