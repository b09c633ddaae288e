"""The operators' console operations, shared by the CLI (`workers/cli_ops.py`) and the HTTP
operator API (`workers/operator_api.py`): plain data in, plain (JSON-ready) dicts out."""
