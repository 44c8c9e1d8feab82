"""The tags stage: the customers' 360° profile tags, rule-based and clustered."""
