"""Model backends for `dvmap eval`: each maps a batch of dataset rows to raw completions (strings).

- `transformers`: a local or Hub model, batched generation with the chat template, shared prompt text read once;
- `vllm`: the same through vLLM (the `gpu` extra; imported only when asked for);
- `openai`: any OpenAI-compatible endpoint (what the authors' own evaluation used), bounded
  concurrency, retries with exponential backoff.
"""

from .openai_backend import MAX_RETRY_AFTER, OpenAIBackend, completion_of
from .transformers_backend import TOKENIZER_FILES, TransformersBackend, check_model_files
from .vllm_backend import VLLMBackend

__all__ = [
    "MAX_RETRY_AFTER",
    "TOKENIZER_FILES",
    "OpenAIBackend",
    "TransformersBackend",
    "VLLMBackend",
    "check_model_files",
    "completion_of",
]
