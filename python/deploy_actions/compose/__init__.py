"""Deploying a tag with Docker Compose over SSH, host by host, with rollback."""
