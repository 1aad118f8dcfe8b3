"""Use cases, one module per area. They see storage only through the ports in `ports`."""
