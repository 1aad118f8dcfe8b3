"""The `shadan` command line (Typer); thin: every command calls a service built by bootstrap."""
