"""Documents: summaries, evidence bundles and legal documents (Kazakh and Russian).

May import :mod:`qamtu.device`, :mod:`qamtu.probe` and :mod:`qamtu.mapping`; never the CLI.
"""
