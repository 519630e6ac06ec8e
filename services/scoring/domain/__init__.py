"""Scoring's pure core: indicator system, evaluation, portraits, scenarios, fitting, post-loan risk, effectiveness."""
