"""The HTTP skin over the acc library: `create_app()` builds the Starlette app."""
