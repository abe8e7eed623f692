"""NudeNet's 320-px pass on onnxruntime (shipped) against OpenVINO (not a dependency), one
thread, one pinned core, interleaved rounds: is another runtime a decision-neutral speed-up?

    pip install openvino      # only for this comparison; gardefou does not use it
    .venv/bin/python benchmarks/nudity_runtime_whatif.py [--n 40] [--rounds 3]

Same graph file (nudenet's bundled 320n.onnx), same pre-processing (``nudity.preprocess``),
BSDS500 photos from ``$GARDEFOU_SHARED/data/photos``. OpenVINO is compiled for f32 inference
(``INFERENCE_PRECISION_HINT=f32``: on CPUs with bf16/AMX it would otherwise pick a lower
precision, and the outputs would depend on the CPU). Prints CPU ms per image for each runtime
per round and the largest absolute difference of the raw outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import bench_env  # noqa: E402

CPU = bench_env.setup()

import argparse  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="photos")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    bench_env.report("nudity_runtime_whatif", CPU)
    try:
        import openvino as ov
    except ImportError:
        sys.exit("OpenVINO is not installed: `pip install openvino` to run this comparison")
    import nudenet
    import onnxruntime as ort

    from gardefou.signals.nudity import preprocess

    photos = sorted((bench_env.shared_dir() / "data" / "photos").rglob("*.jpg"))[: args.n]
    if not photos:
        sys.exit(f"no photos under {bench_env.shared_dir() / 'data' / 'photos'}")
    path = os.path.join(os.path.dirname(nudenet.__file__), "320n.onnx")
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    compiled = ov.Core().compile_model(
        path,
        "CPU",
        {
            "INFERENCE_NUM_THREADS": 1,
            "INFERENCE_PRECISION_HINT": "f32",
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
        },
    )
    request = compiled.create_infer_request()
    inputs = [preprocess(np.asarray(Image.open(p).convert("RGB")), 320)[None] for p in photos]

    def run_ort() -> list[np.ndarray]:
        return [session.run(None, {name: x})[0] for x in inputs]

    def run_ov() -> list[np.ndarray]:
        return [request.infer({0: x})[compiled.output(0)].copy() for x in inputs]

    def timed(fn):  # type: ignore[no-untyped-def]
        t = time.process_time()
        out = fn()
        return (time.process_time() - t) * 1000 / len(inputs), out

    run_ort(), run_ov()  # warm-up: first calls allocate
    diff = 0.0
    for r in range(args.rounds):
        a, out_a = timed(run_ort)
        b, out_b = timed(run_ov)
        diff = max(diff, *(float(np.abs(p - q).max()) for p, q in zip(out_a, out_b, strict=True)))
        print(f"round {r + 1}: onnxruntime {a:.1f} CPU ms/image, OpenVINO {b:.1f}", flush=True)
    print(f"largest absolute difference of the raw outputs: {diff:.2e}")
    print(bench_env.load_line("after"))


if __name__ == "__main__":
    main()
