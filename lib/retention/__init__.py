"""The retention stage: churn labels and features, the churn model, scores and warnings."""
