"""Floor of the library: the error tree, outcomes, ARNs, environment names, AWS limits,
settings and deadlines. Pure; imports nothing else of the project."""
