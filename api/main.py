"""The ASGI app `api.main:app`, built from the environment's settings."""

from api.app_factory import create_app

app = create_app()
