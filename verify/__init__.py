"""The verifier: a claim registry, samplers and checks, verdicts, reports and the command line."""
