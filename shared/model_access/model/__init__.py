"""What the tool reasons about: resource kinds, events, records, facts, owners, accounts,
access levels and the IAM catalog. Pure; imports only `core`."""
