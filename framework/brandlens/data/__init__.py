"""The data layer: the canonical schema, sources, mappings, validation, the store, the market."""
