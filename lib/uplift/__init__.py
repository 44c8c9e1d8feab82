"""The uplift stage: product recommendations (Pearson UCF, ALS) and their evaluation."""
