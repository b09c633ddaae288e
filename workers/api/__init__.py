"""The public billing API under /v1 (FastAPI): what the business's own systems call."""
