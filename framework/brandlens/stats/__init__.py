"""Statistical models that methodologies share (customer lifetime value)."""
