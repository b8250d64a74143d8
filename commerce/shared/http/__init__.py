"""DRF glue shared by every context: problem+json errors, pagination, operational endpoints."""
