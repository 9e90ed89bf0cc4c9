"""Renderers of evaluation results: terminal (rich) and JSON."""
