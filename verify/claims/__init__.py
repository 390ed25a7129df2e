"""Claim modules: each registers its claims in ``verify.registry`` at import."""
