"""The plugin layer: hooks, what a methodology declares, the host that registers plugins."""
