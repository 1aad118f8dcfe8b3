"""Server-rendered Japanese pages; they call the same services as the JSON routes."""
