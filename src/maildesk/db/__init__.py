"""The database: its tables, queries, the incident lifecycle and the migrations."""
