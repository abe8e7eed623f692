"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) without dlib.

The ``dlib-bin`` wheel is built without BLAS, so its network costs ~75 ms per face on one core.
This module reads the same weight file that ``face-recognition-models`` ships and runs the same
network as an ONNX graph on onnxruntime (``_identity_encoder.Encoder``; ~6.5 ms), or with numpy's
matrix product when the ``onnx`` package is missing (``forward``; ~12 ms): the same 128-d
embeddings (float32 rounding aside; ``tests/test_identity_fast.py`` compares them with dlib's on
real faces). dlib still cuts the 150x150 face chip (``dlib.get_face_chip``), so alignment is
unchanged. By default the graph is int8 (``to_onnx(weights, ranges)``; ~2.1 ms with VNNI, ~6.4 ms
on AVX2 only): uint8 activations quantized with the ranges shipped in
``data/dlib_resnet_int8.json`` (``calibrate``), per-channel symmetric 8-bit weights stored as
uint8 (exact integer sums on every CPU); embeddings within ~0.05 of the float ones, checked at
load on this CPU (``_identity_encoder``; docs/model-cards/identity.md).

The network (dlib's ``dnn_face_recognition_ex.cpp``, 29 convolutions): a 7x7/2 convolution,
affine, ReLU, 3x3/2 max pool, then residual blocks of 32 (x3), 64 (down + x3), 128 (down + x2),
256 (down + x2) and 256 (down) filters, a global average and a 128-output linear layer. A block
is conv3x3(stride) -> affine -> ReLU -> conv3x3 -> affine, added to its input (a "down" block
adds a 2x2/2 average of its input, zero-padded to the block's channels and size), then ReLU.

The weight file is dlib's serialisation: layers from the input up, each tagged by a short string
("con_4", "affine_", "fc_2", ...), integers in dlib's packed form and tensors as little-endian
float32. Only the parameterised layers are read; the topology above is fixed, and loading checks
the layer count and every tensor shape against it, so a different file fails loudly.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gardefou.errors import ConfigError, ModelUnavailableError

CHIP_SIZE = 150
CHIP_PADDING = 0.25
#: input_rgb_image_sized's per-channel means; pixels become (value - mean) / 256
MEANS = np.array([122.782, 117.001, 104.298], dtype=np.float32)

#: (filters, stride of the first convolution, is a down block) per residual block, input first
BLOCKS: tuple[tuple[int, int, bool], ...] = (
    *[(32, 1, False)] * 3,
    (64, 2, True),
    *[(64, 1, False)] * 3,
    (128, 2, True),
    *[(128, 1, False)] * 2,
    (256, 2, True),
    *[(256, 1, False)] * 2,
    (256, 2, True),
)

_TAG = re.compile(rb"\x01(?P<n>[\x04-\x0c])(?P<name>con_\d|affine_2?|fc_\d)")


@dataclass(frozen=True)
class Conv:
    weight: np.ndarray  # (C_in * kh * kw, filters): im2col layout, ready for x @ weight
    bias: np.ndarray  # (filters,)
    size: int
    stride: int
    pad: int


@dataclass(frozen=True)
class Affine:
    gamma: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True)
class ResNetWeights:
    convs: tuple[Conv, ...]  # each followed by its affine layer, folded into weight and bias
    fc: np.ndarray  # (256, 128)


class _Reader:
    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def integer(self) -> int:
        head = self.data[self.pos]
        size, negative = head & 0x0F, head & 0x80
        raw = self.data[self.pos + 1 : self.pos + 1 + size]
        self.pos += 1 + size
        value = int.from_bytes(raw, "little")
        return -value if negative else value

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise ValueError(f"tensor version {version} at byte {self.pos}, expected 2")
        dims = [self.integer() for _ in range(4)]
        count = int(np.prod(dims))
        out = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return out.astype(np.float32)

    def alias(self) -> tuple[int, int, int, int]:
        self.integer()  # version
        return (self.integer(), self.integer(), self.integer(), self.integer())


def load_weights(path: str | Path) -> ResNetWeights:
    """Parse the dlib weight file; raise ModelUnavailableError if it is not the expected net."""
    try:
        data = Path(path).read_bytes()
        convs: list[Conv] = []
        affines: list[Affine] = []
        fc: np.ndarray | None = None
        pos = 0
        while True:
            m = _TAG.search(data, pos)
            if m is None or int.from_bytes(m.group("n"), "little") != len(m.group("name")):
                if m is None:
                    break
                pos = m.end()
                continue
            name = m.group("name").decode()
            r = _Reader(data, m.end())
            if name.startswith("con_"):
                params = r.tensor()
                filters, kh, kw = r.integer(), r.integer(), r.integer()
                stride_y, stride_x, pad_y, pad_x = (r.integer() for _ in range(4))
                f_shape, b_shape = r.alias(), r.alias()
                if kh != kw or stride_y != stride_x or pad_y != pad_x:
                    raise ValueError(f"convolution {len(convs)} is not square")
                n_w = int(np.prod(f_shape))
                w = params[:n_w].reshape(f_shape)  # (filters, C_in, kh, kw)
                bias = params[n_w : n_w + int(np.prod(b_shape))]
                if w.shape[0] != filters or bias.shape != (filters,):
                    raise ValueError(f"convolution {len(convs)} has shapes {w.shape} {bias.shape}")
                # im2col columns are ordered (ky, kx, C_in) below
                weight = np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, filters))
                convs.append(Conv(weight, bias.copy(), kh, stride_y, pad_y))
            elif name.startswith("affine_"):
                params = r.tensor()
                g_shape, b_shape = r.alias(), r.alias()
                k = int(np.prod(g_shape))
                affines.append(Affine(params[:k].copy(), params[k : k + int(np.prod(b_shape))]))
            else:
                r.integer(), r.integer()  # num_outputs, num_inputs
                params = r.tensor()
                shape = r.alias()
                fc = params[: int(np.prod(shape))].reshape(shape[0], shape[1]).copy()
            pos = r.pos
        _check(convs, affines, fc)
    except (OSError, ValueError, IndexError) as exc:
        raise ModelUnavailableError(
            f"cannot read dlib's face-recognition network from {path} ({exc}); reinstall it "
            "with `pip install --force-reinstall face-recognition-models==0.3.0`"
        ) from None
    assert fc is not None
    fused = tuple(
        Conv(c.weight * a.gamma, c.bias * a.gamma + a.beta, c.size, c.stride, c.pad)
        for c, a in zip(convs, affines, strict=True)
    )
    return ResNetWeights(fused, fc)


def _check(convs: list[Conv], affines: list[Affine], fc: np.ndarray | None) -> None:
    want = 1 + 2 * len(BLOCKS)
    if len(convs) != want or len(affines) != want or fc is None:
        raise ValueError(
            f"found {len(convs)} convolutions, {len(affines)} affines, expected {want}"
        )
    if fc.shape != (256, 128):
        raise ValueError(f"final layer has shape {fc.shape}, expected (256, 128)")
    if convs[0].weight.shape != (3 * 7 * 7, 32) or convs[0].stride != 2:
        raise ValueError("first convolution is not 7x7/2 with 32 filters")
    for i, (filters, stride, _) in enumerate(BLOCKS):
        a, b = convs[1 + 2 * i], convs[2 + 2 * i]
        if a.bias.shape != (filters,) or a.stride != stride or b.stride != 1 or a.size != 3:
            raise ValueError(f"residual block {i} does not match the expected network")


def _windows(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    """Read-only (B, OH, OW, size, size, C) view of the size x size windows of a (B, H, W, C)
    batch at ``stride``, without padding."""
    b, h, w, ch = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    s = x.strides
    return np.lib.stride_tricks.as_strided(
        x,
        (b, oh, ow, size, size, ch),
        (s[0], s[1] * stride, s[2] * stride, s[1], s[2], s[3]),
        writeable=False,
    )


def _conv(x: np.ndarray, c: Conv) -> np.ndarray:
    """Cross-correlation of a (B, H, W, C) batch, as dlib computes it."""
    if c.pad:
        x = np.pad(x, ((0, 0), (c.pad, c.pad), (c.pad, c.pad), (0, 0)))
    win = _windows(x, c.size, c.stride)
    b, oh, ow = win.shape[:3]
    out = win.reshape(b * oh * ow, -1) @ c.weight
    out += c.bias
    return out.reshape(b, oh, ow, -1)


def _relu(x: np.ndarray) -> np.ndarray:
    np.maximum(x, 0, out=x)
    return x


def _pool(x: np.ndarray, size: int, stride: int, op: str) -> np.ndarray:
    win = _windows(x, size, stride)
    return win.max(axis=(3, 4)) if op == "max" else win.mean(axis=(3, 4), dtype=np.float32)


def _add_padded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's add of two tensors of different sizes: the larger size, missing values are 0."""
    shape = tuple(max(i, j) for i, j in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, dtype=np.float32)
    out[:, : a.shape[1], : a.shape[2], : a.shape[3]] += a
    out[:, : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return out


def forward(weights: ResNetWeights, chips: np.ndarray) -> np.ndarray:
    """128-d embeddings for a (B, 150, 150, 3) uint8 RGB batch of dlib face chips."""
    x = np.ascontiguousarray(normalise(chips).transpose(0, 2, 3, 1))
    x = _pool(_relu(_conv(x, weights.convs[0])), 3, 2, "max")
    for i, (_, _, down) in enumerate(BLOCKS):
        y = _relu(_conv(x, weights.convs[1 + 2 * i]))
        y = _conv(y, weights.convs[2 + 2 * i])
        x = _add_padded(y, _pool(x, 2, 2, "avg")) if down else y + x
        np.maximum(x, 0, out=x)
    pooled = x.mean(axis=(1, 2), dtype=np.float32)
    return pooled @ weights.fc


def to_onnx(
    weights: ResNetWeights,
    ranges: Mapping[str, Sequence[float]] | None = None,
    probes: bool = False,
    scheme: str = "u8u8",
) -> bytes:
    """The same network as an ONNX graph (needs the ``onnx`` package), for onnxruntime. Input
    ``x``: (B, 3, 150, 150) float32, already normalised (see ``normalise``); output: (B, 128).

    ``ranges`` (site -> (min, max), see ``SITES`` and ``calibrate``) gives the int8 network:
    every convolution's input and output is quantized (uint8 activations, per-channel
    symmetric 8-bit weights, int32 biases) in onnxruntime's QDQ form, which it runs with integer
    kernels; the global average and the final linear layer stay float. ``probes`` adds every
    site's float tensor as an extra output (calibration).

    ``scheme`` is how the weights are stored. "u8u8" (default): uint8 with zero point 128, which
    onnxruntime multiplies in 16 bits on every CPU, so the result is the exact integer sum
    everywhere. "u8s8": int8, the same values (so the same sums where the kernel is exact), but
    on x86 CPUs without VNNI onnxruntime uses VPMADDUBSW, whose int16 pair sums saturate: an
    embedding then moves by up to ~0.2 instead of ~0.05 (docs/model-cards/identity.md)."""
    if scheme not in ("u8u8", "u8s8"):
        raise ValueError(f"int8 scheme {scheme!r}: use 'u8u8' (default) or 'u8s8'")
    from onnx import TensorProto, helper, numpy_helper

    if ranges is not None:
        missing = [s for s in SITES if s not in ranges]
        if missing:
            raise ValueError(f"int8 ranges miss the sites {missing[:4]}")
    nodes: list[Any] = []
    inits: list[Any] = []
    taps: list[str] = []

    def const(value: np.ndarray) -> str:
        name = f"k{len(inits)}"
        inits.append(numpy_helper.from_array(value, name))
        return name

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        out = f"t{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def relu(t: str) -> str:
        # int8: the next site's zero point is 0, so quantizing clamps at 0 exactly as ReLU does
        return t if ranges is not None else op("Relu", [t])

    def site(t: str, name: str) -> tuple[str, Quant | None]:
        """The tensor at a calibration site: quantized and dequantized in the int8 network."""
        if probes:
            taps.append(t)
        if ranges is None:
            return t, None
        lo, hi = ranges[name]
        return requant(t, quant_params(lo, hi, nonneg=name not in SIGNED_SITES))

    def requant(t: str, q: Quant) -> tuple[str, Quant]:
        s, z = const(np.array(q.scale, np.float32)), const(np.array(q.zero, np.uint8))
        return op("DequantizeLinear", [op("QuantizeLinear", [t, s, z]), s, z]), q

    def conv(x: str, c: Conv, xq: Quant | None) -> str:
        cin = c.weight.shape[0] // (c.size * c.size)
        w = np.ascontiguousarray(c.weight.reshape(c.size, c.size, cin, -1).transpose(3, 2, 0, 1))
        attrs = {"kernel_shape": [c.size, c.size], "strides": [c.stride, c.stride]}
        if xq is None:
            return op("Conv", [x, const(w), const(c.bias)], pads=[c.pad] * 4, **attrs)
        w_scale = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(axis=1), 1e-12) / 127.0
        w_q: np.ndarray = np.clip(np.rint(w / w_scale[:, None, None, None]), -127, 127)
        b_scale = (np.float32(xq.scale) * w_scale.astype(np.float32)).astype(np.float32)
        b_q = np.rint(c.bias / b_scale).astype(np.int32)
        if scheme == "u8u8":  # the same values, stored as uint8 around zero point 128
            w_q, w_zero = (w_q + 128).astype(np.uint8), np.full(len(w), 128, np.uint8)
        else:
            w_q, w_zero = w_q.astype(np.int8), np.zeros(len(w), np.int8)
        wd = op(
            "DequantizeLinear",
            [const(w_q), const(w_scale.astype(np.float32)), const(w_zero)],
            axis=0,
        )
        bd = op(
            "DequantizeLinear",
            [const(b_q), const(b_scale), const(np.zeros(len(w), np.int32))],
            axis=0,
        )
        return op("Conv", [x, wd, bd], pads=[c.pad] * 4, **attrs)

    x, xq = site("x", "input")
    first = weights.convs[0]
    h, hq = site(relu(conv(x, first, xq)), "stem")
    h = op("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2])
    if hq is not None:
        h, hq = requant(h, hq)
    size = ((CHIP_SIZE - first.size) // first.stride + 1 - 3) // 2 + 1
    channels = first.bias.shape[0]
    for i, (filters, _, down) in enumerate(BLOCKS):
        y, yq = site(relu(conv(h, weights.convs[1 + 2 * i], hq)), f"b{i}.a")
        y, yq = site(conv(y, weights.convs[2 + 2 * i], yq), f"b{i}.b")
        if down:
            pooled = op("AveragePool", [h], kernel_shape=[2, 2], strides=[2, 2])
            y_size, p_size = (size - 3) // 2 + 1, (size - 2) // 2 + 1
            extra = filters - channels  # the shortcut's missing channels are zeros
            pooled = op("Pad", [pooled, const(np.array([0, 0, 0, 0, 0, extra, 0, 0], np.int64))])
            if hq is not None:
                pooled, _ = requant(pooled, hq)
            if p_size > y_size:  # ... and so are the block output's missing rows and columns
                grow = p_size - y_size
                y = op("Pad", [y, const(np.array([0, 0, 0, 0, 0, 0, grow, grow], np.int64))])
                if yq is not None:
                    y, _ = requant(y, yq)
            h, hq = site(relu(op("Add", [y, pooled])), f"b{i}.out")
            size, channels = max(y_size, p_size), filters
        else:
            h, hq = site(relu(op("Add", [y, h])), f"b{i}.out")
    out = op("MatMul", [op("Flatten", [op("GlobalAveragePool", [h])]), const(weights.fc)])
    value = helper.make_tensor_value_info
    outputs = [value(out, TensorProto.FLOAT, ["B", 128])]
    outputs += [value(t, TensorProto.FLOAT, None) for t in taps if t != "x"]
    graph = helper.make_graph(
        nodes,
        "dlib_face_recognition_resnet_model_v1",
        [value("x", TensorProto.FLOAT, ["B", 3, CHIP_SIZE, CHIP_SIZE])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime this project allows
    return bytes(model.SerializeToString())


@dataclass(frozen=True)
class Quant:
    scale: float
    zero: int


#: calibration sites, input first: the normalised chip, the stem after ReLU, and per residual
#: block its first convolution after ReLU (.a), its second convolution (.b, signed) and its
#: output after ReLU (.out)
SITES: tuple[str, ...] = (
    "input",
    "stem",
    *[f"b{i}.{part}" for i in range(len(BLOCKS)) for part in ("a", "b", "out")],
)
SIGNED_SITES = frozenset({"input", *[f"b{i}.b" for i in range(len(BLOCKS))]})


def quant_params(lo: float, hi: float, nonneg: bool) -> Quant:
    """uint8 scale and zero point covering [lo, hi] (and 0; from 0 for non-negative sites)."""
    lo, hi = (0.0 if nonneg else min(float(lo), 0.0)), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    return Quant(float(np.float32(scale)), int(np.clip(round(-lo / scale), 0, 255)))


def calibrate(weights: ResNetWeights, chips: np.ndarray, batch: int = 16) -> dict[str, list[float]]:
    """(min, max) of every site of the float network over (B, 150, 150, 3) uint8 face chips."""
    from gardefou.signals._onnx import onnx_session

    session = onnx_session(to_onnx(weights, probes=True), "face-recognition ResNet (probes)")
    lo = {s: np.inf for s in SITES}
    hi = {s: -np.inf for s in SITES}
    for start in range(0, len(chips), batch):
        x = normalise(chips[start : start + batch])
        values = [x, *session.run(None, {"x": x})[1:]]
        for name, v in zip(SITES, values, strict=True):
            lo[name], hi[name] = min(lo[name], float(v.min())), max(hi[name], float(v.max()))
    return {s: [round(lo[s], 6), round(hi[s], 6)] for s in SITES}


def normalise(chips: np.ndarray) -> np.ndarray:
    """(B, 150, 150, 3) uint8 chips -> the network's (B, 3, 150, 150) float32 input."""
    chips = np.asarray(chips)
    if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError(f"face chips have shape {chips.shape}, expected (B, 150, 150, 3)")
    x = (chips.astype(np.float32) - MEANS) / np.float32(256.0)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


#: activation ranges of the int8 network (``calibrate`` over face chips; written by
#: ``scripts/calibrate_identity.py``), tied to the weight file by its SHA-256
INT8_RANGES = Path(__file__).resolve().parent.parent / "data" / "dlib_resnet_int8.json"
PRECISIONS = ("int8", "fp32")


def load_ranges(weights_sha256: str, path: Path = INT8_RANGES) -> dict[str, list[float]] | None:
    """The shipped int8 ranges, or None when missing or made for another weight file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("weights_sha256") != weights_sha256:
        return None
    ranges = data.get("ranges") or {}
    return ranges if all(s in ranges for s in SITES) else None


def precision_setting() -> str:
    """GARDEFOU_IDENTITY_PRECISION: int8 (default) or fp32."""
    raw = os.environ.get("GARDEFOU_IDENTITY_PRECISION", "int8").strip().lower() or "int8"
    if raw not in PRECISIONS:
        raise ConfigError(
            f"GARDEFOU_IDENTITY_PRECISION={raw!r}; set it to int8 (default; 1.3x to 3x faster, "
            "by CPU) or fp32"
        )
    return raw
