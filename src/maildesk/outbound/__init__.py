"""Mail going out: templates, composed replies, the durable outbox and its sender process,
and the settling of sends a crash interrupted."""
