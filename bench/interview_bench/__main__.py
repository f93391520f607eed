"""`python -m interview_bench`."""

from interview_bench.cli import main

main()
