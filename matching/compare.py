"""Field comparisons for the linking engine: one import for names, dates and documents."""

from matching.compare_dates import birth_date_level, compare_birth_dates
from matching.compare_names import compare_full_names, compare_names, name_level
from matching.documents import compare_documents, document_number_level
from matching.evidence import DateLevel, DocumentLevel, FieldComparison, NameLevel

__all__ = [
    "DateLevel",
    "DocumentLevel",
    "FieldComparison",
    "NameLevel",
    "birth_date_level",
    "compare_birth_dates",
    "compare_documents",
    "compare_full_names",
    "compare_names",
    "document_number_level",
    "name_level",
]
