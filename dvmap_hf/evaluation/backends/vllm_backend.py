"""The `vllm` backend (the `gpu` extra, imported only when asked for)."""

from __future__ import annotations

from ...data.sampling import row_seed
from ...errors import DvmapError
from ..config import InferenceConfig


class VLLMBackend:
    """vLLM generation (GPU), imported only when asked for. Each row samples from its own seed (as openai
    rows do), so chunking and resuming change nothing; prefix caching is on, so the rows of one profile,
    which the dataset keeps together, share their prompt's cached prefix."""

    name = "vllm"
    prompt_format = "chat messages (vLLM applies the model's chat template)"
    rows_per_call = 1024  # vLLM schedules inside a call: large calls keep it busy; the runner writes after each

    def __init__(self, model: str, generation: InferenceConfig):
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            raise DvmapError("the vllm backend needs vLLM: pip install -e '.[gpu]' (on a CUDA machine)") from exc
        self.generation, self.SamplingParams = generation, SamplingParams
        self.llm = LLM(
            model=model,
            seed=generation.seed,
            tensor_parallel_size=generation.tensor_parallel_size,
            gpu_memory_utilization=generation.gpu_memory_utilization,
            max_model_len=generation.max_model_len,
            enable_prefix_caching=True,
        )
        sampling = generation.sampling()
        self.sampling = {
            "temperature": sampling.get("temperature", 0.0),
            "top_p": sampling.get("top_p", 1.0),
            "top_k": sampling.get("top_k", 0) or -1,  # vLLM's "off" is -1
            "max_tokens": generation.max_new_tokens,
        }

    def params(self, row: dict):
        return self.SamplingParams(**self.sampling, seed=row_seed(self.generation.seed, row["id"]))

    def __call__(self, rows: list[dict], batch_seed: int = 0) -> list[str]:
        kwargs = {"chat_template_kwargs": {"enable_thinking": self.generation.enable_thinking}}
        params = [self.params(row) for row in rows]
        outputs = self.llm.chat([row["prompt"] for row in rows], params, use_tqdm=False, **kwargs)
        return [output.outputs[0].text for output in outputs]
