"""The Python bindings against the CLI on the real corpus: every number the bindings return
equals what `regain ... --json` prints, outputs are byte-identical, errors carry the codes.

Environment (set by ctest): PYTHONPATH with the built module, REGAIN_CLI (the regain
binary), REGAIN_CORPUS (../shared/corpus; missing files fail, never skip), REGAIN_README.
"""
import json
import os
import pathlib
import re
import subprocess
import threading

import numpy as np
import pytest

import regain

CLI = os.environ["REGAIN_CLI"]
CORPUS = pathlib.Path(os.environ["REGAIN_CORPUS"])
README = pathlib.Path(os.environ["REGAIN_README"])

PIXEL = CORPUS / "jpeg/pixel6pro_ultrahdr_01.jpg"
ORIGINAL = CORPUS / "edited-pair/original_iphone15promax.jpg"
EDITED = CORPUS / "edited-pair/edited_by_ai_editor.jpg"
ROTATED_HEIC = CORPUS / "heif/iphone15pro_ios18_tmap_rotated.heic"
SMALL = CORPUS / "jpeg/acr17_iso_xmp_3ch_small.jpg"


def cli_json(*args):
    out = subprocess.run([CLI, *map(str, args), "--json"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_corpus_present():
    for f in (PIXEL, ORIGINAL, EDITED, ROTATED_HEIC, SMALL):
        assert f.is_file(), f"corpus file missing: {f}"


@pytest.mark.parametrize("path", sorted(p for p in CORPUS.glob("*/*") if p.suffix.lower() in (".jpg", ".heic", ".avif")),
                         ids=lambda p: p.name)
def test_inspect_equals_cli(path):
    ours = regain.inspect(str(path))
    assert ours == cli_json("inspect", path)
    # Bytes in: the same dict but for the file name, which bytes do not have.
    from_bytes = regain.inspect(path.read_bytes())
    ours.pop("file")
    assert from_bytes == ours


def test_inspect_takes_pathlike_and_memoryview():
    assert regain.inspect(SMALL)["size_bytes"] == SMALL.stat().st_size
    assert regain.inspect(memoryview(SMALL.read_bytes()))["size_bytes"] == SMALL.stat().st_size


def test_decode_shape_and_headroom():
    info = regain.inspect(str(PIXEL))
    hdr = regain.decode(str(PIXEL))
    assert hdr.dtype == np.float32 and hdr.ndim == 3 and hdr.shape[2] == 3
    assert (hdr.shape[1], hdr.shape[0]) == (info["display_width"], info["display_height"])
    assert hdr.flags["C_CONTIGUOUS"] and hdr.base is not None  # the library's buffer, not a copy
    headroom = info["gain_map"]["metadata"]["alternate_hdr_headroom"]
    assert 1.5 < hdr.max() <= 2 ** headroom * 1.01
    sdr_like = regain.decode(str(PIXEL), headroom=0)
    assert sdr_like.max() <= 1.0 + 1e-3


def test_decode_rotated_heic_is_displayed_orientation():
    info = regain.inspect(str(ROTATED_HEIC))
    hdr = regain.decode(str(ROTATED_HEIC))
    assert (hdr.shape[1], hdr.shape[0]) == (info["display_width"], info["display_height"])


def test_process_matches_cli_bytes_and_meta(tmp_path):
    out = tmp_path / "cli.jpg"
    cli_meta = cli_json("process", "--img", EDITED, "--ref", ORIGINAL, "--out", out)
    res = regain.process(str(EDITED), str(ORIGINAL))
    assert res.data == out.read_bytes()
    ours = dict(res.meta)
    for m in (ours, cli_meta):
        m.pop("timings_ms", None)
    # The CLI adds where it read and wrote.
    assert cli_meta.pop("file") == str(EDITED) and cli_meta["output"].pop("path") == str(out)
    assert ours == cli_meta
    gm = res.gain_map
    assert gm.dtype == np.uint8 and gm.ndim in (2, 3) and gm.max() > gm.min()


def test_process_predictive_heic():
    res = regain.process(EDITED.read_bytes(), format="heic")
    assert res.data[4:8] == b"ftyp" and res.format == "heic"
    assert regain.inspect(res.data)["gain_map"] is not None
    assert res.meta["mode"] == "predictive"


def test_encode_round_trip():
    hdr = regain.decode(str(SMALL))
    sdr = (np.clip(hdr, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)
    data = regain.encode(sdr, hdr, quality=90)
    info = regain.inspect(data)
    assert info["gain_map"]["metadata_source"] == "iso21496-1"
    back = regain.decode(data)
    assert back.shape == hdr.shape
    lit = hdr.mean(axis=2) > 0.05
    err = np.abs(np.log2((back.mean(axis=2)[lit] + 1e-3) / (hdr.mean(axis=2)[lit] + 1e-3)))
    assert np.median(err) < 0.1


@pytest.mark.parametrize("data,code,exit_code", [
    (b"not an image at all", "unsupported", 4),
    (b"\xff\xd8\xff\xe1\x00\x10Exif", "invalid_input", 3),
])
def test_errors_carry_codes(data, code, exit_code):
    with pytest.raises(regain.Error) as e:
        regain.inspect(data)
    assert e.value.code == code and e.value.exit_code == exit_code


def test_decode_without_gain_map_is_not_found():
    with pytest.raises(regain.Error) as e:
        regain.decode(str(CORPUS / "jpeg/paris_exif_xmp_icc.jpg"))
    assert e.value.code == "not_found" and e.value.exit_code == 6


def test_missing_path_is_io_error():
    with pytest.raises(regain.Error) as e:
        regain.inspect("/nonexistent/photo.jpg")
    assert e.value.code == "io" and e.value.exit_code == 7


def rgba_png(rgba):
    """A minimal 8-bit RGBA PNG (zlib, no filters) from an HxWx4 uint8 array."""
    import struct
    import zlib
    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[y].tobytes() for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_process_transparent_edit_takes_the_background():
    y, x = np.mgrid[0:96, 0:128]
    rgba = np.zeros((96, 128, 4), np.uint8)
    rgba[..., 0] = (x * 2).astype(np.uint8)
    rgba[..., 1] = (y * 2).astype(np.uint8)
    rgba[..., 2] = 90
    rgba[..., 3] = np.where(x < 64, 255, 0).astype(np.uint8)
    res = regain.process(rgba_png(rgba), background="#00ff00")
    assert res.meta["input"]["background"] == "#00ff00"
    assert res.meta["input"]["transparent_share"] == pytest.approx(0.5)
    assert any("flattened onto #00ff00" in w for w in res.meta["warnings"])


def test_bad_arguments_raise_python_errors():
    with pytest.raises(TypeError):
        regain.inspect(12)
    with pytest.raises(ValueError):
        regain.encode(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.float32))
    with pytest.raises(ValueError):
        regain.process(str(EDITED), format="gif")
    with pytest.raises(ValueError):
        regain.process(str(EDITED), background="pink")


def test_threads_run_together():
    """The GIL is released during work: two decodes in threads both finish with the same result."""
    data = SMALL.read_bytes()
    results = [None, None]

    def work(i):
        results[i] = regain.decode(data)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.array_equal(results[0], results[1])


def test_train_skips_bad_files_with_reasons(tmp_path):
    out = tmp_path / "m.rglm"
    seen = []
    r = regain.train([str(SMALL), str(CORPUS / "jpeg/paris_exif_xmp_icc.jpg"), b"junk"], str(out), epochs=1,
                     progress=seen.append)
    assert out.is_file() and len(seen) == 1 and seen[0]["epoch"] == 1
    assert [s[0] for s in r["skipped"]] == [str(CORPUS / "jpeg/paris_exif_xmp_icc.jpg"), "inputs[2]"]
    info = subprocess.run([CLI, "model", "info", str(out)], check=True, capture_output=True, text=True).stdout
    assert json.loads(info)["info"] == r["info"] and r["info"]["training_files"] == 1
    with pytest.raises(regain.Error) as e:
        regain.train([b"junk"])
    assert e.value.code == "invalid_input"


def test_readme_python_example(tmp_path, monkeypatch):
    """The README's "Use it from Python" example, run as written."""
    text = README.read_text()
    m = re.search(r"## Use it from Python.*?```python\n(.*?)```", text, re.S)
    assert m, "README has no Python example"
    monkeypatch.chdir(tmp_path)
    code = m.group(1).replace("../shared/corpus", str(CORPUS))
    exec(compile(code, "README.md", "exec"), {})
