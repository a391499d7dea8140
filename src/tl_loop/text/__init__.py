"""Text handling: walkers, spans, protection, token markup, language detection."""
