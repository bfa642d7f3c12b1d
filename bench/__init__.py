"""Benchmarks of the mock, printed as ratios against references run side by side in the same run."""
