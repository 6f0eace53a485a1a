"""Authentication and authorization: OAuth 2 server, token verification, principals, policy."""
