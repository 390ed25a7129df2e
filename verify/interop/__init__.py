"""Interoperability with external tools (docs/interop.md): VNN-LIB properties of scalar claims (``vnnlib``) and
Marabou in the loop (``marabou``).  May import ``verify.certify`` and the registry; nothing in ``verify.certify``
imports this package."""
