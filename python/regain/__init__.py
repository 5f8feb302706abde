"""regain: put HDR back into photos (Ultra HDR JPEG, HEIC and AVIF gain maps).

    import regain
    info = regain.inspect("photo.jpg")             # what `regain inspect --json` prints
    hdr = regain.decode("photo.jpg")               # float32 HxWx3, linear, 1.0 = SDR white
    res = regain.process("edited.jpg", "photo.jpg")  # Reference mode; omit the original for Predictive
    open("restored.jpg", "wb").write(res.data)

Errors raise regain.Error, whose .code is the library's error code ("invalid_input", ...) and
.exit_code the CLI's exit code for it.
"""
from ._regain import Error, Result, decode, encode, inspect, process, train

__all__ = ["Error", "Result", "decode", "encode", "inspect", "process", "train"]
