from deploy_actions.cli import entry

entry()
