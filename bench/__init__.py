"""``make bench``: generated corpora, timings and ratios against raw baselines."""
