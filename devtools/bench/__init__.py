"""Benchmarks: the evaluator micro-benchmark (`python -m devtools.bench.evaluator`) and the synthetic
district the benchmark commands and a few scale tests build (`devtools.bench.district`)."""
