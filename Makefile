# Two entry points (see README): `make demo` and `make test`. Both install what they need.
BUILD ?= build

.PHONY: deps build demo test bench model fuzz deb clean
deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD)

demo: build
	bash scripts/demo.sh $(BUILD)/regain out

test:
	bash scripts/test.sh

bench: build
	$(BUILD)/regain bench
	# onnxruntime-node for `regain bench --model` (bundled CPU binaries; benchmarks only).
	[ -d tests/gmnet/ort/node_modules/onnxruntime-node ] || \
	  (cd tests/gmnet/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)

# The default learned predictor, reproduced from the photos whose licences allow shipping a
# model trained on them: ../shared/train's use="train" files and the permissively licensed
# corpus files (BSD-2/BSD-3/MIT/Apache-2.0/CC-BY-4.0). Fixed seed; bit-exact for the same
# build and files, whatever the thread count.
CORPUS ?= ../shared/corpus
MODEL_CORPUS = $(CORPUS)/jpeg/seine_sdr_gainmap_srgb.jpg $(CORPUS)/jpeg/paris_exif_xmp_gainmap_littleendian.jpg \
  $(CORPUS)/jpeg/apple_gainmap_old.jpg $(CORPUS)/jpeg/pixel6pro_ultrahdr_01.jpg $(CORPUS)/jpeg/acr17_iso_xmp_3ch_small.jpg \
  $(CORPUS)/jpeg/acr16_xmp_only_3ch.jpg $(CORPUS)/heif/iphone15pro_ios18_tmap_rotated.heic \
  $(CORPUS)/heif/iphone13pro_ios16_apple_v1.heic $(CORPUS)/heif/samsung_s25u_tmap_3ch.heic
model: build
	SOURCE_DATE_EPOCH=1796601600 $(BUILD)/regain train --manifest ../shared/train/manifest.json --use train \
	  --val-use eval-only $(MODEL_CORPUS) --epochs 12 --ensemble 3 --seed 1 --name regain-default --out models/regain-default.rglm
	cmake --build $(BUILD)

# Debian packages from the Release build: regain, libregain-dev, python3-regain (CPack).
deb: build
	cd $(BUILD) && cpack -G DEB
	ls -l $(BUILD)/*.deb

# Coverage-guided fuzzing: every libFuzzer harness in fuzz/ for FUZZ_SECONDS each, one after
# another (2 cores: builds and fuzzers never overlap), in the sanitizer tree the tests use.
# The grown corpus and crash inputs stay in FUZZ_DIR, outside the repository.
FUZZ_SECONDS ?= 600
FUZZ_DIR ?= $(HOME)/.cache/regain-fuzz
FUZZERS ?=
fuzz: deps
	CCACHE_DIR=$(CURDIR)/.cache/ccache cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DREGAIN_SANITIZE=ON -DREGAIN_BENCH=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DREGAIN_FUZZ=ON
	CCACHE_DIR=$(CURDIR)/.cache/ccache cmake --build build-asan
	build-asan/fuzz/make_seeds $(FUZZ_DIR)/seeds $(CORPUS)
	/usr/bin/python3 fuzz/make_pth_seed.py $(FUZZ_DIR)/seeds/models/small.pth
	bash fuzz/run.sh build-asan/fuzz $(FUZZ_DIR)/seeds $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZERS)

clean:
	rm -rf build build-asan out
