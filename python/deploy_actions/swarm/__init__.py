"""swarm-deploy: the release contract on Docker Swarm."""
