from hypothesis import settings

# Deterministic property tests: the same examples on every run (tests are reproducible, CI included).
settings.register_profile("repo", derandomize=True, deadline=None, max_examples=40, print_blob=True)
settings.load_profile("repo")
