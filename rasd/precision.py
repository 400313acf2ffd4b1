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


# /proc/cpuinfo flags → the instruction-set names a reader knows, in the order they are printed.
_ISA_FLAGS = (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx512_vnni", "AVX-512 VNNI"),
              ("avx512_bf16", "AVX-512 BF16"), ("amx_int8", "AMX INT8"), ("amx_bf16", "AMX BF16"))


def cpu_isa() -> tuple[str, ...]:
    """The vector instruction sets of this CPU that matter for rasd's precisions (Linux; empty elsewhere).

    Example:
        >>> set(cpu_isa()) <= {name for _, name in _ISA_FLAGS}
        True
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = set(next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), []))
    except OSError:
        return ()
    return tuple(name for flag, name in _ISA_FLAGS if flag in flags)


def cpu_supports_bf16() -> bool:
    """True when this CPU has native bf16 matrix instructions (AVX-512 BF16 or AMX)."""
    if torch.backends.cpu.get_cpu_capability() not in ("AVX512", "AMX"):
        return False
    isa = cpu_isa()
    return "AVX-512 BF16" in isa or "AMX BF16" in isa


def auto_precision(device: torch.device) -> tuple[str, str]:
    """What ``dtype="auto"`` runs in on ``device``, and why (for ``rasd info`` and logs).

    Example:
        >>> auto_precision(torch.device("cpu"))[0] in ("float32", "bfloat16")
        True
    """
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return "bfloat16", "this GPU computes in bf16 natively"
        return "float16", "this GPU has no bf16; fp16 is its fast half precision"
    if device.type != "cpu":
        return "float32", f"{device.type}: float32, the precision every kernel supports"
    isa = ", ".join(cpu_isa()) or "unknown instruction sets"
    if cpu_supports_bf16():
        return "bfloat16", (f"this CPU has native bf16 ({isa}): 1.7x float32 and F1 within 0.004 of it, "
                            "as measured (docs/benchmarks.md)")
    # int8 is faster on every CPU measured, but it keeps the down-projections in float for accuracy and
    # still loses F1 (docs/benchmarks.md); "auto" picks only modes that keep the model's accuracy.
    return "float32", (f"this CPU has no native bf16 ({isa}): bf16 would be emulated and slower than float32, "
                       "and int8 costs up to 0.8 entity F1; ask for dtype='int8' to trade that for speed")


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
        return auto_precision(device)[0]
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
