"""The optional LLM reviewer."""
