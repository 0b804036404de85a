"""One module per schema revision, oldest first. Revisions are history: never edit a shipped one."""
