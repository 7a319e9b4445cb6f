"""K concurrent meetings streamed in real time through the Serve proxy: latency, WER, CPU, RSS.

    .venv/bin/python -m bench.audio_streams [--streams 1,2,4,6,8] [--tiny-llm] [--url URL]
                                            [--with-peer]

By default starts the local stack itself (Ray, Serve, a fresh embedded PostgreSQL in a temporary
GLOSSIFY_HOME, so the glossary starts empty) on 127.0.0.1:--port; `--url` targets a running
stack instead. For each K, K meetings each stream the dev-meeting recording over
`ws://…/meeting/<id>/ws` as 100 ms pcm_s16le frames, paced like a live microphone: t0 is the
instant the first sample is "spoken" and frame i goes out at t0 + (i+1)·0.1 s, when its last
sample would have been captured. After `audio_end`, each socket stays open until the run is
quiet (no event for --settle seconds and the stack's CPU idle), so late `terms` are counted.

Per stream, with the wall clock of this process:
- final latency: arrival − (t0 + event.end) for each final `transcript` event. `end` is the
  utterance end the server reports: speech end + 0.1 s post-roll. The utterance is closed only
  after 0.5 s of silence, so ~0.4 s of the figure is the segmenter waiting for the pause.
- sentence latency: per sentence of the recording (offline Silero VAD, no padding: the true end
  of speech, the same reference for every system), arrival of the last final covering it − end.
- term latency: for each `terms` event, arrival − end of the first final line containing it.
- last frame → last final; send lag (how late each frame left, against its schedule); WER
  against the script; jargon words right; sentences heard; CPU and peak RSS of the stack's
  processes (Ray's and PostgreSQL's), sampled every 0.5 s.

"Real time" for K: send lag p95 < 0.5 s, every sentence heard in every stream, and final
latency p95 ≤ 5 s. `--with-peer` then runs `python -m bench.peer_whisperlive` (in
bench/.peer-venv, on the same audio and model, after this stack is shut down) and prints both
side by side.

Modules: streaming (the K sockets), analysis (per stream, per K, real time), report (the table,
the peer run and comparison), cli (parse_args, bench, main; `bench.load --mode audio` uses
them).
"""
