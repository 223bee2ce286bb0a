"""Bulk import (CSV/XLSX) and streamed export of customers, contacts and follow-ups."""
