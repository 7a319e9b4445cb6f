"""The WhisperLive peer (`bench/.peer-venv/bin/python -m bench.peer_whisperlive`); see
__main__.py."""
