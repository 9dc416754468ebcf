"""Reports from a results store: tables (pure functions of the rows), figures, Markdown/HTML."""
