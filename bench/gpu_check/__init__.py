"""GPU check: real-time streams per GPU. Run `python -m bench.gpu_check` (see __main__.py)."""
