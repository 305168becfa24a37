"""Interviews plugin: interview documents, the chat with the LLM interviewer, and its GraphQL fields.

The conversation logic lives in plain modules that need no HTTP or database:

- ``interviewer``: the heuristic interviewer, a deterministic question flow over the bank in
  ``config/questions.toml`` (used when the LLM is not configured or unavailable);
- ``prompting``: the LLM system prompt, the context token budget, candidate-text delimiting
  against prompt injection, and the check applied to model output before it is stored.

The LLM client itself is ``core.llm``.
"""
