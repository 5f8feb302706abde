"""Cost of the Python binding over the C++ call (a benchmark, not a test):
    PYTHONPATH=build/python /usr/bin/python3 scripts/bench-python-decode.py [FILE] [RUNS]
Decodes a 12-MP Ultra HDR JPEG to float32 RGB through regain.decode (bytes in, numpy array out)
and through the same C++ call timed inside the module (no Python objects), alternately, and
prints both medians and the ratio.
"""
import statistics
import sys
import time

import regain
from regain import _regain

path = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/jpeg/pixel6pro_ultrahdr_01.jpg"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
data = open(path, "rb").read()
regain.decode(data)  # warm-up
py, cpp = [], []
for _ in range(runs):
    t0 = time.perf_counter()
    hdr = regain.decode(data)
    py.append(time.perf_counter() - t0)
    del hdr
    cpp.append(_regain._time_decode_cpp(data, 1))
p, c = statistics.median(py), statistics.median(cpp)
shape = regain.decode(data).shape
print(f"{path} ({shape[1]}x{shape[0]}): python {p * 1000:.0f} ms, C++ {c * 1000:.0f} ms, "
      f"overhead {100 * (p / c - 1):+.1f}% (median of {runs})")
