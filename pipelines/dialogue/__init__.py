"""Dialogue: an empathetic conversational partner (understanding → reply emotion → reply).

Backends: ``smollm`` (default, the bundled SmolLM2-135M GGUF on a NumPy decoder), ``openai``
(any OpenAI-compatible server: Ollama, llama.cpp server, vLLM) and ``tiny`` (tests).
"""
