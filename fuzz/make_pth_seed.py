"""A small PyTorch state dict as a fuzz seed for the .pth loader (fuzz_models: first byte 2)."""
import io
import sys

import torch

buf = io.BytesIO()
torch.save({"conv.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3), "conv.bias": torch.zeros(2)}, buf)
with open(sys.argv[1], "wb") as f:
    f.write(b"\x02" + buf.getvalue())
