"""Helpers every benchmark shares.

- `bench.common.paths`: where the repository, the shared recordings and the results are.
- `bench.common.table`: the one table formatter (plain text for the console, or Markdown).
- `bench.common.processes`: the stack's processes, their CPU and memory, the machine.
- `bench.common.stack`: the local stack (Ray, Serve, a fresh embedded PostgreSQL) and stopping
  meetings.

`paths`, `table` and `processes` import only the standard library and psutil, so the WhisperLive
peer's venv (bench/.peer-venv) can use them; `stack` needs the project's venv.
"""
