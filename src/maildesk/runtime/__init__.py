"""The running daemon and what wires its parts together."""
