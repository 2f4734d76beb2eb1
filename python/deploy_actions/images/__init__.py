"""Images: references, tag rules, the registry HTTP API and the Docker engine."""
