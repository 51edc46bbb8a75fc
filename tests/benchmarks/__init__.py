"""Benchmarks: `python -m tests.benchmarks [--smoke] [--only NAME ...]`.

Each benchmark prints its figures and the ratio to a baseline measured in the same
process run. Nothing here asserts on time; pytest does not collect this folder.
"""
