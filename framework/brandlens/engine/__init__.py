"""The engine layer: runs on one DuckDB connection, ladders, results, time limits, work dirs."""
