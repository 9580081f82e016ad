"""Churn risk prediction: labels, datasets, models and their evaluation."""
