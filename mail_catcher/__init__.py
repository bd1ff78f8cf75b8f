"""A local SMTP catcher for development: every message is kept as an .eml file."""
