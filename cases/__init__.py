"""Residents' complaints: intake, settlement matching, cases, deadlines and answers (issue 14)."""
