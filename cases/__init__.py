"""Residents' complaints: records, cases and their hash-chained history, legal deadlines, answers."""
