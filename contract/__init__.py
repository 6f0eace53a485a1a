"""Contract testing of the running service against the committed `openapi.yaml`."""
