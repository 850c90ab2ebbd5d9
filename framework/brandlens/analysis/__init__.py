"""The analysis layer: questions answered over engine runs (compare, funnel)."""
