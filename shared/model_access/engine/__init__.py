"""The one reconcile path: decide per batch, then apply per role group under leases.

Talks to AWS only through the ports in `engine.ports` (the `aws` adapters or in-memory fakes
satisfy them); never imports `aws`, boto3 or Powertools."""
