"""The desk run by email: staff commands, their authentication, and what they change."""
