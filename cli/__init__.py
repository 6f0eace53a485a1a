"""The `sanad` command line: serve, migrate, demo, agencies, clients, keys and imports."""
