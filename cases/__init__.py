"""Residents' complaints: intake, settlement matching, cases and their hash-chained history, legal
deadlines, answers, trip planning and reports (issue 14)."""
