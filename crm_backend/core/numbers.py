"""Human-readable record numbers (ORD-000123, TCK-000045): the id, zero-padded, prefixed."""


def format_number(prefix: str, record_id: int) -> str:
    return f"{prefix}{record_id:06d}"


def parse_number(prefix: str, text: str) -> int | None:
    """`ORD-000123`, `ord-123` or `123` -> 123 for prefix ORD-; anything else -> None."""
    text = text.strip().upper()
    if text.startswith(prefix):
        text = text[len(prefix):]
    return int(text) if text.isdigit() and len(text) <= 12 else None
