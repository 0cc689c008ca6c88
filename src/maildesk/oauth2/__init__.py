"""OAuth2 sign-in for IMAP and SMTP: SASL strings, tokens, their providers and storage."""
