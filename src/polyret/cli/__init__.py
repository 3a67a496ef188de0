"""The ``polyret`` command line: thin typer wrappers over public functions.

Each command lives in its own module and registers itself on :data:`app`; this module only
assembles them.
"""

# Importing a command module registers its commands on the app.
from polyret.cli import (  # noqa: F401
    adapt_cmd,
    curate_cmd,
    datasets_cmd,
    demo_cmd,
    evaluate_cmd,
    fuse_cmd,
    mine_cmd,
    models_cmd,
    report_cmd,
    rerank_cmd,
    retrieve_cmd,
    run_cmd,
    serve_cmd,
    train_cmd,
)
from polyret.cli.app import app, main

__all__ = ["app", "main"]
