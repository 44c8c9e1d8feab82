"""The aum stage: monthly AUM per customer from the ledger, tiers and their migration."""
