"""Stand-ins for AWS on this machine: the moto server, its extensions and guards, the trail,
the event source mapping (poller) and the Lambda invoker."""
