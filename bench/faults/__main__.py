"""`python -m bench.faults`: see bench/faults/__init__.py."""

from bench.faults.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
