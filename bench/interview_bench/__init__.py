"""`make bench`: the whole system as processes, measured as ratios to same-run baselines."""
