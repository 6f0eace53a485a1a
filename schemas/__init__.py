"""Wire and table models (SQLModel "multiple models": Base / table / Create / Public)."""
