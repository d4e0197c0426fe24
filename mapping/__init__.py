"""Geography: the settlement gazetteer, tagging fixes with settlements, coverage rules and maps.

Imports nothing from :mod:`qamtu.device`, :mod:`qamtu.probe` or :mod:`qamtu.reports`.
"""
