"""Follow-up of earlier lists: which listed prospects converted and which flagged customers churned."""
