"""Table upkeep: current properties and constraints, OPTIMIZE (Z-order) and VACUUM."""
