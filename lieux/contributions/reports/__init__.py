"""Contributions made visible in documents: each person's history (CSV, JSON), the yearly certificate of
volunteer hours (PDF) and the funder's report (PDF, CSV). Reads only; nothing here is stored — every
document is built from the rows on request, so it always says what the records say."""
