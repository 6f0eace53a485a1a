"""Service configuration read from the environment (pydantic-settings)."""
