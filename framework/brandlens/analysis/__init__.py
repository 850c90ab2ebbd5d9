"""The analysis layer: questions answered over engine runs (compare, funnel)."""

MIN_BASE = 30
"""Values taken over fewer people than this are marked (``--min-base``): market
research's usual floor for reporting a percentage, where one person is 3.3 points."""
