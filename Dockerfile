FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY domain domain
COPY adapters adapters
COPY workers workers
COPY migrations migrations
RUN pip install --no-cache-dir .
USER nobody
