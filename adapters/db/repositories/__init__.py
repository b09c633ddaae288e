"""SQL implementations of the repository ports in `domain.ports`, one module per aggregate."""
