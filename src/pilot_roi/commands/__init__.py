"""One module per `pilot-roi` subcommand; each registers its parser and a handler returning an exit code."""
