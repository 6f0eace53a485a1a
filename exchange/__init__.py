"""Agency lists, sharing agreements and records: the exchange format, storage and visibility."""
