"""Service functions: each takes a command and a unit of work, checks the rules and commits or raises."""
