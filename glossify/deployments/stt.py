"""Transcriber deployment (faster-whisper): arrives with live audio; not part of the graph yet."""
