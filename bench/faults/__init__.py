"""Faults injected into live meetings, measured: final lines lost, terms lost, events duplicated
and seconds until captions resumed, per fault.

`python -m bench.faults` starts a local stack, streams the sample meeting
(glossify/assets/sample-meeting.wav) into one fresh meeting per fault, injects the fault
(`kill -9` of the Transcriber, ingress, TermExplainer replica or of the meeting's host, a
TermDetector that never answers), and writes bench/results/faults-<date>.json. The same
scenarios (`bench.faults.scenarios`), injectors and accounting run in tests/serve/test_faults.py,
which asserts the figures.
"""
