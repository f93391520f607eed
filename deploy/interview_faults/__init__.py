"""The fault suite of issue 9: the system as processes, faults injected under a steady stream of
answers, and a ledger of what the gateway acknowledged checked against what was scored.

`python -m interview_faults` (`make faults`) runs every bounded scenario and writes the table to
docs/reliability.md; tests/faults runs the same scenarios as pytest tests.
"""
