"""Claim modules: each registers its claims in ``verify.registry`` at import.

One module per lemma module, named after it (``lemmas/X.py`` -> ``verify/claims/X.py``); ``foundation`` holds the
claims about the network algebra itself and ``softmax`` the Lemma F.1 statements about functions (no weights).
Helpers shared by several claim modules live in ``common``.  ``ORDER`` is the order of ``--list`` and of the
reports (roughly the paper's); a module not listed is loaded after these, in name order.
"""

ORDER = ("foundation", "softmax", "clip", "square", "mult", "exp", "rec", "cos", "quotient", "ratio", "gauss_kernel",
         "gauss_kernel_net", "attention", "jl", "copying", "ngram", "fixed_positions", "piecewise_smooth")
