"""The access audit: one event per request and one disclosure per record whose data is shown."""
