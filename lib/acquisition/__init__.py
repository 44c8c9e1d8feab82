"""The acquisition stage: the counterparty graph and the prospects it shows."""
