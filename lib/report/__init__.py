"""The report stage: the month's HTML report and its charts."""
