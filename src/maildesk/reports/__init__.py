"""What the distributor reads: incident listings, the morning digest, escalation alerts and
the service levels."""
