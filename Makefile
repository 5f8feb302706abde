# Two entry points (see README): `make demo` and `make test`. Both install what they need.
BUILD ?= build

.PHONY: deps build demo test bench clean
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

clean:
	rm -rf build build-asan out
