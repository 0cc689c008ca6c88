"""Mail coming in: MIME to text, the client's own words, language, loop guard, and the
pipeline that turns one mail into one committed outcome."""
