"""The spec layer: declarative indicator specs and the harness that verifies plugins honour them."""
