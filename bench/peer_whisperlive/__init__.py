"""The peer: K concurrent streams through WhisperLive 0.10.0, measured like bench.audio_streams.

    bench/setup_peer.sh                      # once: bench/.peer-venv
    bench/.peer-venv/bin/python -m bench.peer_whisperlive [--streams 1,2,4,6] [--omp 2]

Starts `whisper_live.server.TranscriptionServer().run(...)` in a subprocess with the faster_whisper
backend and the same Whisper base CTranslate2 directory Glossify uses (a custom model path turns
on single-model mode: one model shared by all clients behind a lock; int8 on CPU). Its CPU
threads come from OMP_NUM_THREADS (`--omp`, default 2 = Glossify's `transcriber.cpu_threads`;
WhisperLive's own launcher defaults to 1). `max_clients` is the largest K.

Each client streams the recording as float32 frames of 100 ms paced like a live microphone (frame
i at t0 + (i+1)·0.1 s) with `use_vad: true` and `language: en`. WhisperLive has no end-of-stream
flush (END_OF_AUDIO closes the socket and a trailing partial is lost), so after the recording a
client keeps sending silence, as an open microphone would, until its last segment is completed
or --tail seconds pass, then END_OF_AUDIO.

A segment's latency is its first arrival as `completed` − (t0 + its end); sentence latency, WER
(completed segments plus the last partial), jargon, sentences heard, CPU and RSS (the server's
process tree) are computed as in bench.audio_streams. WhisperLive drops audio without telling
anyone (past 45 s of untranscribed audio it discards the oldest 30 s): missing sentences and
WER show it.

Modules: server (the WhisperLive subprocess), clients (the K streams), analysis (per stream, per
K, the table), __main__ (the command line). The whole package runs in bench/.peer-venv: at import
time only the standard library, numpy, psutil, websockets and the pure-Python bench.common,
bench.audio_metrics and glossify.transcription.wer (tests/bench/test_common.py checks it).
"""
