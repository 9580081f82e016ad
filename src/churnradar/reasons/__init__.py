"""Why customers leave (domain.md §3): the reason taxonomy and churn types, complaint and
note classification, attribution of each churned customer, staff departures."""
