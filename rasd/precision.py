"""CPU and GPU precision: which dtype to run in, and the conversions that make each one fast.

One call, :func:`prepare_model`, puts a loaded model on its device in its precision; the
:class:`~rasd.Extractor` and the evaluator both use it, so what is scored is what users run.
float32 on a CPU runs its linear layers through oneDNN, ``int8`` is dynamic quantisation
(CPU only), ``bfloat16`` needs native bf16 instructions to pay, ``float16`` is for GPUs.

Example:
    >>> import torch
    >>> resolve_dtype("fp32", torch.device("cpu"))
    'float32'
    >>> resolve_dtype(torch.float64, torch.device("cpu"))
    Traceback (most recent call last):
    ...
    rasd.errors.InputError: unsupported dtype torch.float64: choose float32, bfloat16, float16, int8 or auto
"""

from __future__ import annotations

import warnings

import torch

from rasd.errors import InputError

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
          "float16": torch.float16, "fp16": torch.float16}


def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 matrix instructions (AVX-512 BF16 or AMX)."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in ("AVX512", "AMX"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> str:
    """The precision to run in: a name among float32, bfloat16, float16, int8.

    ``None`` keeps float32 (exact); ``"auto"`` picks bf16 where the hardware has
    it (GPUs with bf16, CPUs with AVX-512 BF16/AMX), fp16 on other GPUs, else fp32.
    """
    if dtype is None:
        return "float32"
    if isinstance(dtype, torch.dtype):
        names = {v: k for k, v in DTYPES.items() if len(k) > 4}
        if dtype not in names:
            raise InputError(f"unsupported dtype {dtype}: choose float32, bfloat16, float16, int8 or auto")
        dtype = names[dtype]
    if not isinstance(dtype, str):
        raise InputError(f"dtype must be a name or a torch.dtype, got {type(dtype).__name__}")
    if dtype == "auto":
        if device.type == "cuda":
            return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return "bfloat16" if cpu_supports_bf16() else "float32"
    if dtype == "int8":
        if device.type != "cpu":
            raise InputError("int8 (dynamic quantisation) runs on the CPU only")
        return "int8"
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype {dtype!r}: choose float32, bfloat16, float16, int8 or auto")
    name = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}.get(dtype, dtype)
    if name == "float16" and device.type == "cpu":
        raise InputError("float16 is for GPUs; on a CPU use bfloat16 or int8")
    return name


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantisation of the encoder's Linear layers (weights per output channel).

    The feed-forward down-projections (more inputs than outputs: 3072 → 768 in a base model)
    stay in fp32, through oneDNN: their inputs carry the activation outliers that per-tensor
    8-bit activations cannot hold (measured on the e5-small model: entity F1 -10.4 points with
    every layer quantised, -0.5 with these kept; docs/benchmarks.md). The output heads stay fp32.
    """
    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, which is not a dependency;
        # the API still works and is what dynamic int8 on a CPU needs (PLATFORM-NOTES).
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        encoder = getattr(model, "encoder", model)
        names = {name for name, m in encoder.named_modules()
                 if type(m) is torch.nn.Linear and m.in_features <= m.out_features}
        # In place: a copy would hold the fp32 model and its int8 twin in memory at once.
        quantize_dynamic(encoder, {name: per_channel_dynamic_qconfig for name in names}, dtype=torch.qint8,
                         inplace=True)
    use_onednn_linear(model)
    release_free_memory()
    return model


def release_free_memory() -> None:
    """Give memory freed by a conversion back to the OS (glibc keeps it otherwise).

    The fp32 weights a conversion replaces are mid-heap allocations that glibc would keep
    mapped; ``malloc_trim`` returns them. A no-op where glibc is not the C library.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name and "libc" in name:
        try:
            ctypes.CDLL(name).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
            pass


class OneDNNLinear(torch.nn.Module):
    """A Linear layer whose fp32 weight is prepacked for oneDNN (inference only).

    Uses the same oneDNN kernel PyTorch's own compiler emits for CPU linear layers.
    """

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight", torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach()),
                             persistent=False)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.weight, self.bias, "none", [], "")


def _onednn_works() -> bool:
    """The prepacked oneDNN linear exists in this torch build and matches nn.Linear."""
    try:
        lin = torch.nn.Linear(8, 4)
        x = torch.randn(2, 3, 8)
        with torch.inference_mode():
            return bool(torch.allclose(OneDNNLinear(lin)(x), lin(x), atol=1e-5))
    except (AttributeError, RuntimeError):
        return False


def use_onednn_linear(model: torch.nn.Module) -> int:
    """Run every fp32 Linear layer through oneDNN instead of the default BLAS; returns how many.

    Same fp32 arithmetic, different kernel: PyTorch's CPU wheels multiply fp32 matrices with
    MKL, which takes a slow code path on AMD CPUs (measured 167 vs 346 GFLOPS for BERT-base's
    intermediate layer on a 2-core Zen 4; docs/benchmarks.md). Outputs agree to ~1e-6. Weights
    are repacked in place of the originals (no second copy), for inference only. Returns 0 and
    changes nothing where this torch build lacks the kernel.
    """
    if not torch.backends.mkldnn.is_available() or not _onednn_works():
        return 0
    # (parent, name) pairs only, so each original layer is freed as soon as it is replaced.
    places = [(parent, name) for parent in model.modules() for name, child in parent.named_children()
              if type(child) is torch.nn.Linear and child.weight.dtype == torch.float32]
    for parent, name in places:
        setattr(parent, name, OneDNNLinear(getattr(parent, name)))
    release_free_memory()
    return len(places)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The device to run on: ``None`` picks CUDA when available, else the CPU.

    Raises:
        InputError: for a name torch does not know (``"banana"``) or a device this machine lacks.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise InputError(f"device must be a string such as 'cpu' or 'cuda:0', got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise InputError(f"unknown device {device!r}: use cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {device!r}: CUDA is not available on this machine (torch "
                             f"{torch.__version__}); use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"device {device!r}: MPS is not available on this machine")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"device {device!r}: rasd runs on cpu, cuda or mps")
    return dev


def prepare_model(model: torch.nn.Module, device: torch.device, dtype: str | torch.dtype | None,
                  onednn: bool = True) -> tuple[torch.nn.Module, str]:
    """Move ``model`` to ``device`` in the precision ``dtype`` asks for; returns it and the precision's name.

    Example:
        >>> model, precision = prepare_model(model, torch.device("cpu"), "int8")  # doctest: +SKIP
        >>> precision  # doctest: +SKIP
        'int8'
    """
    precision = resolve_dtype(dtype, device)
    if precision == "int8":
        model = quantize_int8(model)
    else:
        model = model.to(device=device, dtype=DTYPES[precision])
        if onednn and device.type == "cpu" and precision == "float32":
            use_onednn_linear(model)
    return model.eval(), precision
