"""The Transcriber as serve_config.yaml deploys it.

tests/bench/test_gpu_check.py keeps these in step with serve_config.yaml and TranscriberConfig;
glossify.config needs pydantic, which the device machine lacks, so they are repeated here rather
than read.
"""

MAX_BATCH_SIZE = 16
BATCH_WAIT_S = 0.02
ENCODER_MARGIN_S = 1.0
CPU_THREADS = 2
