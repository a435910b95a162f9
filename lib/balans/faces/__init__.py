"""The faces: the board members' Voilà app and its server (app.py, serve.py,
serve_voila.py, vega_bundle.py; zygote.py and fork_provisioner.py for kernels forked from a
preloaded process), the batch of reports (batch/) and the command line (cli.py)."""
