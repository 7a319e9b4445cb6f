"""Glossify's benchmarks. Run each from the repository root as `python -m bench.<name>`
(`.venv/bin/python -m bench.load --help`); `bench/results/` keeps their JSON results."""
