"""Decisioning: marketing's config, eligibility, arbitration and the next-best-action plan."""
