"""`python -m bench.audio_streams`: see bench/audio_streams/cli.py."""

from bench.audio_streams.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
