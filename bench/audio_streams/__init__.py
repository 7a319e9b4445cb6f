"""K live-audio meetings through the Serve proxy (`python -m bench.audio_streams`); see cli.py."""
