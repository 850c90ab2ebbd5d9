"""The command line: a thin typer shell, the one rendering module, the benchmark command."""
