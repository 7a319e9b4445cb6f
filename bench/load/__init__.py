"""Load on a live Glossify stack (`python -m bench.load`); see bench/load/__main__.py."""
