"""Load on a live Glossify stack: M text meetings × R lines/s with L listeners each; the knee
of the term latency; TermDetector/TermExplainer replica counts while it runs.

    .venv/bin/python -m bench.load [--meetings 10] [--rate 0.5] [--duration 60] [--listeners 2]
        [--sweep [meetings=10,25,50,100,200 | rate=0.1,0.2,0.5,1]] [--watch-scaling]
        [--config bench/autoscale.local.yaml] [--app-args JSON] [--tiny-llm]
        [--url http://host:8000 [--dashboard-url http://host:8265]]
    .venv/bin/python -m bench.load --mode audio --meetings 1,4 [--tiny-llm] [--watch-scaling]

By default starts the local stack itself (Ray, Serve, a fresh embedded PostgreSQL, like
`python -m bench.audio_streams`); text runs deploy it without the Transcriber and with
`meetings.use_glossary: false`, so every term goes through the explainer however many
meetings ran before (`--config`'s args and `--app-args` go on top). `--url` targets a
running stack or cluster instead.

Text mode, per step: L listeners per meeting connect to `ws://…/meeting/<id>/ws`; each meeting
then gets final lines at R lines/s (`POST /meeting/<id>/stt`, open loop: a slow answer does not
delay the next line) for --duration seconds, from jargon sentences in a per-meeting order,
lead-ins and coined terms (workload.py); then the run drains (no event for --settle
s), every meeting is stopped and its upsert awaited (`upsert_done`, `GET …/stop/status`).
Measured: requests/s, HTTP latency, line → transcript event and line → terms event latency at
the listeners, errors (non-2xx, exceptions, sockets closed by the server, `error` events), and
RSS/PSS of the stack's processes before, loaded and after the stop (per meeting). The knee is
the lightest step whose p95 line → terms latency is ≥ --knee-factor × the lightest step's.

`--mode audio` runs bench.audio_streams' machinery for K = --meetings live-audio meetings
(the dev recording streamed in real time) with the same memory accounting and scaling watch.

`--watch-scaling` samples Serve's replica counts every second (in-process from the Serve
controller when this script started the stack, else the dashboard's
/api/serve/applications/), prints each change with the load at that moment, and keeps
sampling after the load until the deployments are back at their minimum (--scale-down-wait).
Results: bench/results/load-<date>.json (or --json-out).

Modules: workload (what is said, the steps, the app args), records, traffic (listeners, lines,
draining), analysis (latencies, errors, memory, knee), scaling (replica timeline), steps (one
run's steps), report (table, knee, JSON), __main__ (the command line).
"""
