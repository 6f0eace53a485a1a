"""HTTP layer only: app factory, middleware, dependencies and thin routers."""
