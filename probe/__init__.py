"""Measuring: sample models, the capture loop, speed tests and the durable store.

May import :mod:`qamtu.device` and :mod:`qamtu.mapping`; never :mod:`qamtu.reports` or the CLI.
"""
