"""GPU check: how many live streams one GPU transcribes in real time (CUDA float16, Whisper base).

On an NVIDIA machine, in one call (it installs what it needs, then runs this package):

    bash bench/gpu_check.sh                     # table on stdout, $OUT/gpu_check.json

The workplace's device machine reaches no package index and takes 64 MiB per call, so the
pinned wheels (~230 MB) travel in parts first; `bash bench/gpu_check.sh prepare` (here) stages
them and prints the calls, which are:

    run(command="bash bench/gpu_check.sh receive", carry=[".gpu-carry/1"])   # 2, 3 alike
    run(command="bash bench/gpu_check.sh", carry=[".gpu-carry/4"], timeout_s=540)

back to back (a machine idle for 30 s goes back with the parts). Where the project's venv is:

    .venv/bin/python -m bench.gpu_check [--streams 1,4,8,16,32] [--seconds 30] [--json PATH]

With no CUDA device it prints "no GPU: <why>", decodes a few seconds on the CPU as a sanity
check and exits 0 (so CI and the tests run it); `--cpu` runs the whole stream check on the CPU.

What it does on a GPU: loads `SpeechEngine` on cuda/float16 with the packaged Whisper base, then
for each stream count K plays K live streams at real-time pace. Each stream closes an utterance
of 2-6 s of the sample meeting after a 0.5-2 s pause, like the segmenter does at a pause; the
closed windows queue for the decoder and are taken the way the Transcriber's `@serve.batch`
takes them (one batch at a time, up to max_batch_size, a partial batch held batch_wait_s for
more). Per level it reports the batch sizes seen, final latency (utterance closed -> text)
p50/p95, decode throughput (audio seconds per second of decoding) and whether K is real time:
p95 <= 2 s and no growing backlog. Partials are not simulated: the Transcriber starts them only
when no final waits (FinalsFirst) and drops stale ones, so they use spare time; a final that
arrives during a partial's decode waits for it, which this check does not count. The VAD's
closing silence (min_silence_s) comes before "utterance closed" and is not in these latencies.

Modules: transcriber (the deployed Transcriber's batching and engine settings), streams (the
synthetic live streams and playing them through the batcher), device (CUDA devices, nvidia-smi,
GPU memory), engine (the sample meeting and SpeechEngine), report (percentiles, the real-time
verdict, the table, the outputs), __main__ (the command line).

Imports only the standard library, numpy, glossify and bench.common.table, and CTranslate2 to
count CUDA devices.
"""
