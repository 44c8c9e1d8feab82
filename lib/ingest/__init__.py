"""The ingest stage: validate a month of the six source tables into silver and quarantine."""
